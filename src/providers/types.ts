/**
 * What bottle knows about each agent CLI family (DESIGN §2 "provider"): how to start it without its own
 * permission prompts (the bottle is the boundary), how to hand it a prompt headless, how to resume, how to
 * make it trust the proxy's CA, which hosts carry its metered API traffic and what it calls besides (each
 * side host is routed or denied on purpose), and where its skills and global instructions live in its
 * home. Pure data and argv builders; no I/O.
 */
import type { ProviderName, Route } from "../manifest/types.ts";

/** A host an agent talks to, and what bottle does with it. */
export interface HostPolicy {
  host: string;
  /** Paths on the host that matter, for the documentation (`/api/claude_code/*`). */
  paths?: string[];
  /** route: on the allowlist (MITM'd and metered if it carries usage); deny: not on it, refused by the proxy. */
  decision: "route" | "deny";
  why: string;
}

export interface LaunchOptions {
  /** The agent's model, from its manifest. */
  model?: string;
  /** Headless: the prompt; interactive when absent. */
  prompt?: string;
  /** Machine-readable output where the CLI has it (codex `exec --json`, pi `--mode json`, claude `stream-json`). */
  json?: boolean;
  /** Continue the agent's most recent session (after `bottle resume`). */
  resume?: boolean;
}

/** Estimates a request's input tokens for the pre-flight gate; the budget code plugs its estimator in. */
export type CountTokens = (body: unknown) => number | Promise<number>;

export interface Provider {
  name: ProviderName;
  /** Executable name: on the host PATH (sandbox) or in the image (docker). */
  binary: string;
  /** npm package that ships the CLI, and the version bottle's images and tests pin. */
  npm: { package: string; version: string };
  /** Full argv for a launch (binary first). */
  argv(o: LaunchOptions): string[];
  /** Env that makes the CLI trust the CA certificate at `caPath` (an inside path). */
  caEnv(caPath: string): Record<string, string>;
  /**
   * Env every launch gets: placeholder credentials (the proxy's `auth:` routes strip them and inject the
   * real key, so the agent never holds it), telemetry and auto-update off.
   */
  env: Record<string, string>;
  /** Hosts whose traffic carries token usage: always routed, always MITM'd. */
  meteredHosts: HostPolicy[];
  /** Everything else the CLI is known to call. */
  sideHosts: HostPolicy[];
  /** Where skills go, relative to the home: `<skillsDir>/<name>/SKILL.md`. */
  skillsDir: string;
  /** The global instructions file the CLI reads from its home; the agent's prompt body goes there. */
  instructionsFile: string;
  /**
   * Files written into the run's home before launch (path relative to home → contents), e.g. the
   * settings that let an interactive CLI start without a first-run questionnaire.
   */
  homeFiles(): Record<string, string>;
  /** Set by the budget code for `preflight: provider|estimate`; absent until then. */
  countTokens?: CountTokens;
}

/** The routes a provider needs: its metered hosts and the side hosts it routes on purpose. */
export function providerRoutes(p: Provider): Route[] {
  return [...p.meteredHosts, ...p.sideHosts].filter((h) => h.decision === "route").map((h) => ({ host: h.host }));
}
