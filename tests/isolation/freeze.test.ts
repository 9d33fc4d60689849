/**
 * Freeze stops everything before the snapshot (DESIGN §6a.4). A process chain inside a real sandbox bottle
 * whose members each start the next and exit (so each one is re-parented before a walk of the process tree
 * can find it) must not outrun the freeze: once freeze returns, no member is alive and the snapshot holds
 * exactly what the chain had written. And the host-side snapshot copy never follows a symlink the agent
 * swaps in while it copies: a real concurrent process flips an entry between a file and a symlink to a
 * host secret, and no copy may ever contain the secret.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { copySnapshotTree } from "../../src/backends/snapshot-copy.ts";
import type { BottleHandle, RunningProcess } from "../../src/backends/types.ts";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";

setDefaultTimeout(120_000);

const SWAP = resolve(import.meta.dir, "../fixtures/swap-symlink.ts");

/** Host processes whose command line mentions `needle`. */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(needle)) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

function lines(file: string): number {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
}

describe("freeze stops a fork chain before the snapshot", () => {
  const backend = new SandboxBackend();
  let proxy: EchoProxy;
  const handles: BottleHandle[] = [];
  const procs: RunningProcess[] = [];
  beforeAll(() => {
    proxy = echoProxy();
  });
  afterAll(async () => {
    for (const p of procs) p.kill("SIGKILL");
    for (const h of handles) await backend.teardown(h).catch(() => undefined);
    proxy?.stop();
  });

  test("no process survives (a fork chain, processes that SIGCONT each other), and the snapshot equals what they wrote", async () => {
    const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace() }));
    handles.push(h);
    const tag = `frz-${h.runId}`;
    const script = (name: string, text: string) => writeFileSync(join(h.hostHome, `${tag}-${name}`), text, { mode: 0o755 });
    // A writer that never stops appending; two processes that resume every process they can signal, so a
    // sweep that stops one process at a time leaves some running; a chain whose members fork and exit.
    script("writer.sh", "#!/bin/sh\nwhile :; do echo w >> /home/bottle/gens; done\n");
    script("cont.sh", "#!/bin/sh\nwhile :; do kill -CONT -1 2>/dev/null; done\n");
    script("chain.py", 'import os\nwhile True:\n    if os.fork() != 0:\n        os._exit(0)\n');
    // A big file makes the snapshot copy take a while, so whatever still runs has time to write.
    writeFileSync(join(h.hostHome, "big.bin"), Buffer.alloc(64 * 1024 * 1024, 1));
    const home = "/home/bottle";
    const p = backend.exec(h, ["sh", "-c", `${home}/${tag}-writer.sh & ${home}/${tag}-cont.sh & ${home}/${tag}-cont.sh & python3 ${home}/${tag}-chain.py & exec sleep 600`], { attach: "capture" });
    procs.push(p);
    const gens = join(h.hostHome, "gens");
    for (let i = 0; i < 1000 && lines(gens) < 200; i++) await Bun.sleep(20);
    expect(lines(gens)).toBeGreaterThanOrEqual(200);

    const snap = await backend.freeze(h);
    expect(processesWith(tag)).toEqual([]);
    const after = readFileSync(gens, "utf8");
    expect(readFileSync(join(snap.ref, "home", "gens"), "utf8")).toBe(after);
    // Nothing is left to write later either.
    await Bun.sleep(300);
    expect(readFileSync(gens, "utf8")).toBe(after);
  });
});

describe("the snapshot copy follows no symlink", () => {
  test("links are copied as links, fifos and sockets are skipped, modes and times are kept", () => {
    const root = mkdtempSync(join(process.env.TMPDIR!, "snap-"));
    const src = join(root, "home");
    mkdirSync(join(src, "sub", "deeper"), { recursive: true });
    writeFileSync(join(src, "sub", "deeper", "f.txt"), "deep\n", { mode: 0o640 });
    writeFileSync(join(src, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    symlinkSync("/etc/passwd", join(src, "passwd-link"));
    symlinkSync(join(root, "outside"), join(src, "dir-link"));
    mkdirSync(join(root, "outside"));
    writeFileSync(join(root, "outside", "host.txt"), "HOST\n");
    expect(Bun.spawnSync(["mkfifo", join(src, "pipe")]).exitCode).toBe(0);
    utimesSync(join(src, "run.sh"), 1_000_000, 1_000_000);
    copySnapshotTree(src, join(root, "copy"));
    const to = (p: string) => join(root, "copy", p);
    expect(readlinkSync(to("passwd-link"))).toBe("/etc/passwd");
    expect(lstatSync(to("dir-link")).isSymbolicLink()).toBe(true);
    expect(existsSync(to("pipe"))).toBe(false);
    expect(readFileSync(to("sub/deeper/f.txt"), "utf8")).toBe("deep\n");
    expect(statSync(to("sub/deeper/f.txt")).mode & 0o777).toBe(0o640);
    expect(statSync(to("run.sh")).mode & 0o777).toBe(0o755);
    expect(statSync(to("run.sh")).mtimeMs).toBe(1_000_000_000);
    rmSync(root, { recursive: true, force: true });
  });

  test("an entry flipped between a file and a symlink to a host secret never copies the secret", async () => {
    const root = mkdtempSync(join(process.env.TMPDIR!, "swap-"));
    const src = join(root, "home");
    mkdirSync(src);
    writeFileSync(join(root, "secret"), "HOST SECRET\n");
    writeFileSync(join(src, "keep.txt"), "kept\n");
    const swapper = Bun.spawn([process.execPath, SWAP, src, join(root, "secret")], { stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < 200 && !existsSync(join(src, "x")); i++) await Bun.sleep(10);
      let leaks = 0;
      let copies = 0;
      for (let i = 0; i < 2000; i++) {
        const to = join(root, "copy");
        rmSync(to, { recursive: true, force: true });
        copySnapshotTree(src, to);
        copies++;
        const x = join(to, "x");
        if (existsSync(x) && !lstatSync(x).isSymbolicLink() && readFileSync(x, "utf8").includes("HOST SECRET")) leaks++;
        expect(readFileSync(join(to, "keep.txt"), "utf8")).toBe("kept\n");
      }
      expect(copies).toBe(2000);
      expect(leaks).toBe(0);
    } finally {
      swapper.kill("SIGKILL");
      await swapper.exited;
      rmSync(root, { recursive: true, force: true });
    }
  });
});
