/**
 * The environment of a process inside a bottle, built from scratch. Nothing of the host environment leaks
 * in except a few harmless terminal/locale variables: a host API key must never reach an agent (the proxy
 * injects secrets itself). Proxy variables point every client at the in-bottle bridge, in both spellings,
 * because some clients read only the lowercase ones and some only the uppercase.
 */
import { DEFAULT_BRIDGE_PORT, INSIDE, type BottlePlan } from "./types.ts";

/** Host variables copied into a bottle when set: terminal and locale only. */
export const PASSTHROUGH_ENV = ["TERM", "COLORTERM", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "COLUMNS", "LINES", "NO_COLOR"] as const;

export function proxyUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export function proxyEnv(port: number): Record<string, string> {
  const url = proxyUrl(port);
  const noProxy = "localhost,127.0.0.1,::1";
  return {
    HTTPS_PROXY: url,
    HTTP_PROXY: url,
    ALL_PROXY: url,
    https_proxy: url,
    http_proxy: url,
    all_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

export interface BottleEnvInput {
  plan: BottlePlan;
  /** PATH inside the bottle (host PATH for the sandbox, the image's for docker). */
  path: string;
  host?: Record<string, string | undefined>;
  extra?: Record<string, string>;
}

/** Later layers win: passthrough < base < plan.env < extra; the proxy variables always win. */
export function bottleEnv({ plan, path, host = process.env, extra = {} }: BottleEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSTHROUGH_ENV) {
    const v = host[k];
    if (v !== undefined && v !== "") env[k] = v;
  }
  Object.assign(env, {
    HOME: INSIDE.home,
    USER: "bottle",
    LOGNAME: "bottle",
    SHELL: "/bin/sh",
    PATH: path,
    TMPDIR: "/tmp",
    BOTTLE_RUN_ID: plan.runId,
    BOTTLE_LABEL: plan.label,
  });
  if (plan.caCertPath) env.BOTTLE_CA_CERT = INSIDE.caCert;
  Object.assign(env, plan.env, extra, proxyEnv(plan.bridgePort ?? DEFAULT_BRIDGE_PORT));
  return env;
}
