/**
 * Release builds for the benchmarks that measure this tree against an earlier revision in the same run
 * (bench/proxy/run.ts --baseline, idle.ts, idle-run.ts). The earlier source is exported with `git archive`
 * (nothing to clean up in the repository), and both trees are built with scripts/build.ts, as a release is,
 * so the two binaries differ only in their source.
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/** `git -C root …`'s output, trimmed; a failure throws with git's message. */
export function gitIn(root: string, args: string[], env: Record<string, string | undefined> = process.env): string {
  const r = Bun.spawnSync(["git", "-C", root, ...args], { env, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/**
 * Exports revision `rev` of the repository at `root` into the new directory `into`. Its dependencies are
 * this tree's node_modules (`link`, when the revisions share a lockfile) or its own locked install.
 */
export function exportRevision(root: string, rev: string, into: string, deps: "link" | "install", env: Record<string, string | undefined> = process.env): void {
  mkdirSync(into);
  const archive = Bun.spawnSync(["sh", "-c", `git -C '${root}' archive '${rev}' | tar -x -C '${into}'`], { env, stderr: "pipe" });
  if (archive.exitCode !== 0) throw new Error(`git archive ${rev}: ${archive.stderr.toString()}`);
  if (deps === "link") symlinkSync(join(root, "node_modules"), join(into, "node_modules"));
  else {
    const install = Bun.spawnSync(["bun", "install", "--frozen-lockfile"], { cwd: into, env, stdout: "pipe", stderr: "pipe" });
    if (install.exitCode !== 0) throw new Error(`bun install in ${into} failed: ${install.stderr.toString()}`);
  }
}

/** The release build of a source tree into `outdir`; returns the binary's path. */
export async function releaseBuild(tree: string, outdir: string, env: Record<string, string | undefined> = process.env): Promise<string> {
  const p = Bun.spawn(["bun", join(tree, "scripts/build.ts"), "--outdir", outdir], { cwd: tree, env, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`build of ${tree} failed (${code}): ${err}`);
  return join(outdir, "bottle");
}
