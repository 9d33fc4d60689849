/**
 * Spawning the real `bottle` CLI the way a user or a CI job does: a pinned environment (NO_COLOR, TZ=UTC,
 * COLUMNS), stdin closed, a BOTTLE_HOME of the test's own, and a hard time limit after which the process is
 * killed by PID and the test fails (a headless command must never wait for input).
 */
import { mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";

export const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** True when the time limit killed it. */
  timedOut: boolean;
}

export interface CliOptions {
  home?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** "closed" (default): stdin is /dev/null; "silent": an open pipe nobody ever writes to or closes; `{ text }`: these bytes, then end of input. */
  stdin?: "closed" | "silent" | { text: string };
}

/** A fresh BOTTLE_HOME under the test's TMPDIR. */
export function freshHome(): string {
  return mkdtempSync(join(process.env.TMPDIR!, "bottle-home-"));
}

export function cliEnv(o: CliOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "TMPDIR", "USER", "LANG"]) if (process.env[k]) env[k] = process.env[k]!;
  return { ...env, NO_COLOR: "1", TZ: "UTC", COLUMNS: "120", BOTTLE_HOME: o.home ?? process.env.BOTTLE_HOME!, ...(o.env ?? {}) };
}

function stdinOf(s: CliOptions["stdin"]): "pipe" | "ignore" | Uint8Array {
  if (s === "silent") return "pipe";
  if (typeof s === "object") return new TextEncoder().encode(s.text);
  return "ignore";
}

export async function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  const proc = Bun.spawn(["bun", MAIN, ...args], { cwd: o.cwd ?? process.env.TMPDIR!, env: cliEnv(o), stdin: stdinOf(o.stdin), stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, o.timeoutMs ?? 20_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}

/** Runs the CLI with `--json` and parses its stdout, failing with stderr when it did not exit 0. */
export async function runCliJson<T = unknown>(args: string[], o: CliOptions = {}): Promise<T> {
  const r = await runCli([...args, "--json"], o);
  if (r.code !== 0) throw new Error(`bottle ${args.join(" ")} exited ${r.code}${r.timedOut ? " (timed out)" : ""}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
