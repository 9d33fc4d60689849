/**
 * Which process limit a sandbox bottle gets (sandbox/pids-limit.ts), decided from the mount table and the
 * cgroup files: a v1 pids hierarchy, a v2 one with the pids controller, none; root's agent gets the cgroup,
 * an ordinary user's the rlimit in its user namespace; the command inside starts with prlimit only then.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePidsLimit, joinArgv, pidsControllerRoot, pidsLimitFor, rlimitPrefix } from "../../src/backends/sandbox/pids-limit.ts";

const V1 = "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,memory 0 0\ncgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0\n";
const V2 = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n";
const files = (m: Record<string, string>) => (p: string) => m[p];
const root = { kind: "drop" as const, uid: 65533, gid: 65533, setpriv: "/usr/bin/setpriv" };
const user = { kind: "userns" as const, uid: 1000, gid: 1000 };

test("the pids controller is found in a v1 hierarchy, in v2 only when pids is among its controllers", () => {
  expect(pidsControllerRoot(files({ "/proc/self/mounts": V1 }))).toEqual({ root: "/sys/fs/cgroup/pids", version: 1 });
  expect(pidsControllerRoot(files({ "/proc/self/mounts": V2, "/sys/fs/cgroup/cgroup.controllers": "cpu io memory pids\n" }))).toEqual({ root: "/sys/fs/cgroup", version: 2 });
  expect(pidsControllerRoot(files({ "/proc/self/mounts": V2, "/sys/fs/cgroup/cgroup.controllers": "cpu io memory\n" }))).toBeUndefined();
  expect(pidsControllerRoot(files({}))).toBeUndefined();
});

test("root gets a cgroup where there is one, else a shared rlimit; an ordinary user an rlimit of its bottle", () => {
  const cg = pidsLimitFor(root, 1024, files({ "/proc/self/mounts": V1 }), () => true);
  expect(cg).toEqual({ kind: "cgroup", max: 1024, root: "/sys/fs/cgroup/pids", version: 1 });
  expect(rlimitPrefix(cg)).toEqual([]);
  const shared = pidsLimitFor(root, 1024, files({}));
  expect(shared).toMatchObject({ kind: "rlimit", max: 1024, shared: true });
  // A pids hierarchy mounted read-only (a container's /sys/fs/cgroup) is no cgroup bottle can make.
  expect(pidsLimitFor(root, 1024, files({ "/proc/self/mounts": V1 }), () => false)).toMatchObject({ kind: "rlimit", shared: true });
  expect(describePidsLimit(shared)).toContain("all of root's sandbox bottles together");
  const own = pidsLimitFor(user, 1024, files({ "/proc/self/mounts": V1 }));
  expect(own).toMatchObject({ kind: "rlimit", shared: false });
  expect(rlimitPrefix(own).slice(1)).toEqual(["--nproc=1024:1024", "--"]);
});

test("the host command writes its own pid to the cgroup's procs file, then execs the command (same pid)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cg-"));
  try {
    const argv = joinArgv(dir, ["sh", "-c", "echo $$", "a b"]);
    expect(argv.slice(3)).toEqual([join(dir, "cgroup.procs"), "sh", "-c", "echo $$", "a b"]);
    const p = Bun.spawn(argv, { stdout: "pipe" });
    const out = (await new Response(p.stdout).text()).trim();
    expect(await p.exited).toBe(0);
    expect(readFileSync(join(dir, "cgroup.procs"), "utf8").trim()).toBe(String(p.pid));
    expect(out).toBe(String(p.pid));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
