/**
 * The README's two commands set up a fresh Debian machine (only Node and npm) with everything the suite
 * needs, from one list: scripts/install-host.sh. quickstart.sh, test.sh and .ci/run all go through it, and
 * no other script installs host packages. Run with a PATH on which some tools are missing, it asks the
 * package manager for exactly their packages (apt-get here is a recorder on the test's PATH: the real one
 * would need the network); with nothing missing it asks for nothing.
 */
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const read = (p: string) => readFileSync(join(REPO, p), "utf8");

test("quickstart.sh, test.sh and .ci/run install host tools only through scripts/install-host.sh", () => {
  expect(read("scripts/quickstart.sh")).toMatch(/^bash scripts\/install-host\.sh$/m);
  expect(read("scripts/test.sh")).toMatch(/^bash scripts\/install-host\.sh --docker$/m);
  expect(read(".ci/run")).toMatch(/^bash scripts\/install-host\.sh --docker$/m);
  for (const f of ["scripts/quickstart.sh", "scripts/test.sh", ".ci/run", ...readdirSync(join(REPO, "scripts")).map((s) => `scripts/${s}`)]) {
    if (f === "scripts/install-host.sh") continue;
    expect(read(f)).not.toMatch(/^\s*(\S*sudo\S* )?(DEBIAN_FRONTEND=\S+ )?(\$sudo )?apt-get install/m);
  }
});

/** A PATH holding every host tool except `drop`, an apt-get that records what it is asked, and `id` saying root. */
function hostWithout(drop: string[]): { PATH: string; log: string } {
  const root = mkdtempSync(join(process.env.TMPDIR!, "host-"));
  const bin = join(root, "bin");
  mkdirSync(bin);
  for (const dir of ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (drop.includes(name) || name === "apt-get" || existsSync(join(bin, name))) continue;
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  const log = join(root, "apt.log");
  writeFileSync(join(bin, "apt-get"), `#!/bin/sh\necho "$*" >> ${log}\n`);
  chmodSync(join(bin, "apt-get"), 0o755);
  return { PATH: bin, log };
}

function installHost(PATH: string): { code: number; stderr: string } {
  const r = Bun.spawnSync(["bash", join(REPO, "scripts/install-host.sh")], { env: { PATH, HOME: process.env.HOME! }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stderr: r.stderr.toString() };
}

test("install-host.sh installs exactly the packages of the missing tools, and nothing when none is missing", () => {
  if (process.getuid?.() !== 0) throw new Error("this test runs install-host.sh as root (no sudo); run the suite as root as CI does");
  const some = hostWithout(["tmux", "dockerd", "docker"]);
  const r = installHost(some.PATH);
  expect(r.code, r.stderr).toBe(0);
  const calls = readFileSync(some.log, "utf8").trim().split("\n");
  expect(calls).toEqual(["update -qq", "install -y -qq --no-install-recommends docker.io tmux"]);
  expect(r.stderr).toContain("install-host: installing docker.io tmux");

  const none = hostWithout([]);
  const n = installHost(none.PATH);
  expect(n.code, n.stderr).toBe(0);
  expect(existsSync(none.log)).toBe(false);
});
