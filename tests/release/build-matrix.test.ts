/**
 * The release a user downloads: scripts/build.ts --all cross-compiles the four targets offline, writes a
 * SHA256SUMS that `sha256sum --check` accepts for exactly those binaries, and keeps the source maps apart
 * (sourcemaps/), so nothing beside the binaries but the sums. The host's binary says which build it is.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };

const REPO = resolve(import.meta.dir, "../..");
const out = mkdtempSync(join(process.env.TMPDIR!, "release-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test("--all builds four binaries, SHA256SUMS over them, and source maps in their own directory", async () => {
  const p = Bun.spawn(["bun", "scripts/build.ts", "--all", "--outdir", out], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  expect(code, err).toBe(0);
  const bins = ["bottle-darwin-arm64", "bottle-darwin-x64", "bottle-linux-arm64", "bottle-linux-x64"];
  expect(readdirSync(out).sort()).toEqual(["SHA256SUMS", ...bins, "sourcemaps"].sort());
  expect(readdirSync(join(out, "sourcemaps")).sort()).toEqual(bins.map((b) => `${b}.map`));
  const sums = await Bun.file(join(out, "SHA256SUMS")).text();
  expect(sums.trim().split("\n").map((l) => l.split(/\s+/)[1]).sort()).toEqual(bins);
  const check = Bun.spawnSync(["sha256sum", "--check", "SHA256SUMS"], { cwd: out });
  expect(check.exitCode, check.stderr.toString()).toBe(0);
  expect(check.stdout.toString().match(/: OK$/gm)?.length).toBe(4);

  // The linux-x64 binary (this machine's) names its version, commit and target.
  if (process.platform === "linux" && process.arch === "x64") {
    const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: REPO }).stdout.toString().trim();
    const v = Bun.spawnSync([join(out, "bottle-linux-x64"), "--version"], { cwd: out, env: { PATH: "/usr/bin:/bin" } });
    expect(v.stdout.toString()).toMatch(new RegExp(`^${pkg.version.replace(/\./g, "\\.")} \\(commit ${head}(-dirty)?, linux-x64\\)\\n$`));
  }
}, 180_000);
