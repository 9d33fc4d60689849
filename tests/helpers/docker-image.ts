/**
 * A small docker image assembled from this host's own files, for tests: no image registry is reachable
 * here, so tests cannot pull `node:*`. It holds a shell, coreutils-style tools, getent and curl with the
 * shared libraries they and bun need (found with ldd), imported with `docker import`. bottle's bridge runs from
 * the host's bun and this repository, which the backend mounts read-only. Tagged by a hash of its
 * contents' paths and sizes, so it is built once per machine.
 */
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { docker, dockerOk } from "../../src/backends/docker/cli.ts";

const TOOLS = ["sh", "env", "cat", "id", "sleep", "ls", "getent", "curl", "touch", "mkdir", "rm", "echo", "test", "kill"];
const EXTRA_LIBS = ["libnss_files.so.2", "libnss_dns.so.2"];
/** Bumped when the image's layout changes (not only its files), so that a fresh image is imported. */
const LAYOUT = 2;

function ldd(bin: string): string[] {
  const out = Bun.spawnSync(["ldd", bin], { stdout: "pipe", stderr: "pipe" }).stdout.toString();
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

function hostFiles(libsFor: string[]): string[] {
  const files = new Set<string>();
  for (const t of TOOLS) {
    const p = Bun.which(t, { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" });
    if (!p) continue;
    files.add(p);
    for (const l of ldd(realpathSync(p))) files.add(l);
  }
  // bun (bottle's bridge) and node (npm-installed agent CLIs) are mounted from the host: their libraries
  // must be in the image.
  for (const exe of [process.execPath, Bun.which("node"), ...libsFor]) if (exe) for (const l of ldd(realpathSync(exe))) files.add(l);
  const libDir = dirname([...files].find((f) => basename(f).startsWith("libc.so"))!);
  for (const l of EXTRA_LIBS) if (existsSync(join(libDir, l))) files.add(join(libDir, l));
  return [...files].sort();
}

/**
 * Returns the tag of the test base image, importing it on first use. `libsFor`: more host executables
 * that will be mounted in, whose shared libraries the image must carry.
 */
export async function testBaseImage(libsFor: string[] = []): Promise<string> {
  const files = hostFiles(libsFor.map((f) => realpathSync(f)));
  const hash = createHash("sha256");
  hash.update(`layout ${LAYOUT}\n`);
  for (const f of files) hash.update(`${f}:${statSync(f).size}\n`);
  const tag = `bottle-test-base:${hash.digest("hex").slice(0, 16)}`;
  if ((await docker(["image", "inspect", tag], { timeoutMs: 30_000 })).code === 0) return tag;
  const stage = mkdtempSync(join(tmpdir(), "rootfs-"));
  try {
    for (const top of ["/bin", "/sbin", "/lib", "/lib64"]) {
      if (existsSync(top) && lstatSync(top).isSymbolicLink()) symlinkSync(readlinkSync(top), join(stage, top));
    }
    for (const f of files) {
      const dest = join(stage, realpathSync(dirname(f)), basename(f));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f, dest);
    }
    for (const d of ["run", "home", "etc", "root", "proc", "sys", "dev"]) mkdirSync(join(stage, d), { recursive: true, mode: 0o755 });
    // Sticky and world-writable, as in any distribution image (mkdir's mode is cut by the umask): the agent
    // is not root in the container, and CLIs write their temporary files here.
    for (const d of ["tmp", "var/tmp"]) {
      mkdirSync(join(stage, d), { recursive: true });
      chmodSync(join(stage, d), 0o1777);
    }
    writeFileSync(join(stage, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
    writeFileSync(join(stage, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    writeFileSync(join(stage, "etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
    const tar = join(stage, "..", `${basename(stage)}.tar`);
    const t = Bun.spawnSync(["tar", "-C", stage, "-cf", tar, "."], { stderr: "pipe" });
    if (t.exitCode !== 0) throw new Error(`tar failed: ${t.stderr.toString()}`);
    try {
      await dockerOk(["import", tar, tag], "import the test base image", { timeoutMs: 300_000 });
    } finally {
      rmSync(tar, { force: true });
    }
    return tag;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
