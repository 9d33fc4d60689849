/**
 * The real compiled `bottle` binary for tests that spawn it. It is built once per test process with
 * scripts/build.ts into the test's temp tree (a fresh build takes well under a second, and a binary left
 * in dist/ could be stale), then run from a directory with no source tree or node_modules beside it, with a
 * pinned environment: NO_COLOR, TZ=UTC, COLUMNS=100, and a temp HOME and BOTTLE_HOME.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");

let built: Promise<string> | undefined;

/** Path of a fresh `bottle` binary (built on first call). */
export function compiledBottle(): Promise<string> {
  built ??= (async () => {
    const outdir = mkdtempSync(join(process.env.TMPDIR!, "dist-"));
    const p = Bun.spawn(["bun", "scripts/build.ts", "--outdir", outdir], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`scripts/build.ts failed (${code}): ${err}`);
    return join(outdir, "bottle");
  })();
  return built;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  home: string;
  cwd: string;
}

/** A fresh HOME / BOTTLE_HOME / cwd triple under the test's temp tree. */
export function cliEnv(): CliEnv & { root: string } {
  const root = mkdtempSync(join(process.env.TMPDIR!, "cli-"));
  for (const d of ["home", "bottle-home", "work"]) mkdirSync(join(root, d));
  return { root, home: join(root, "bottle-home"), cwd: join(root, "work") };
}

/** Runs the compiled binary with the pinned environment; `home` is BOTTLE_HOME. */
export async function runCompiled(args: string[], where: CliEnv): Promise<CliResult> {
  const bin = await compiledBottle();
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME!,
    BOTTLE_HOME: where.home,
    TMPDIR: process.env.TMPDIR!,
    NO_COLOR: "1",
    TZ: "UTC",
    COLUMNS: "100",
  };
  const p = Bun.spawn([bin, ...args], { cwd: where.cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
