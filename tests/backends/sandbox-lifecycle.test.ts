/**
 * Sandbox bottle lifecycle with real bwrap processes: exit codes come back, freeze pauses and saves the
 * files then stops everything, resume brings home and workspace back, and teardown leaves no process or
 * mount behind. `list()` (what `bottle ps` shows) follows each step.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, processTree } from "../../src/backends/procs.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import type { BottleHandle, RunningProcess } from "../../src/backends/types.ts";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";

// Real bwrap/docker processes on a shared 2-core machine: generous bounds, never timing assertions.
setDefaultTimeout(60_000);

const backend = new SandboxBackend();
let proxy: EchoProxy;
const handles: BottleHandle[] = [];
const procs: RunningProcess[] = [];

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await Bun.sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function mountsMention(path: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8").includes(path);
}

beforeAll(() => {
  proxy = echoProxy();
});
afterEach(async () => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  for (const h of handles.splice(0)) await backend.teardown(h);
}, 120_000);
afterAll(() => proxy?.stop());

async function create(workspace: "bind" | "copy" = "bind", files: Record<string, string> = {}): Promise<BottleHandle> {
  const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace(files), workspace }));
  handles.push(h);
  return h;
}

describe("sandbox bottle processes", () => {
  test("the agent's exit code and a signal death come back to the caller", async () => {
    const h = await create();
    expect((await backend.provision(h, ["sh", "-c", "exit 7"])).exitCode).toBe(7);
    expect((await backend.provision(h, ["sh", "-c", "kill -TERM $$"])).exitCode).toBe(128 + 15);
    const missing = await backend.provision(h, ["definitely-not-a-command-xyz"]);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain("definitely-not-a-command-xyz");
  });

  test("copy mode works on a copy: the user's directory is untouched", async () => {
    const h = await create("copy", { "a.txt": "original\n" });
    const r = await backend.provision(h, ["sh", "-c", "cat a.txt; echo changed > a.txt"]);
    expect(r.stdout).toBe("original\n");
    expect(readFileSync(join(h.plan.cwd, "a.txt"), "utf8")).toBe("original\n");
    expect(readFileSync(join(h.hostWorkspace, "a.txt"), "utf8")).toBe("changed\n");
  });

  test("copyIn places files under the home and refuses paths outside home and workspace", async () => {
    const h = await create();
    const src = freshWorkspace({ "SKILL.md": "# skill\n" });
    await backend.copyIn(h, src, "/home/bottle/.claude/skills/demo");
    const r = await backend.provision(h, ["cat", "/home/bottle/.claude/skills/demo/SKILL.md"]);
    expect(r.stdout).toBe("# skill\n");
    await expect(backend.copyIn(h, src, "/etc/x")).rejects.toThrow(/only the home and the workspace/);
  });
});

describe("sandbox freeze, resume, teardown", () => {
  test("freeze stops every process and keeps home and workspace; resume restores them", async () => {
    const h = await create("copy", { "work.txt": "v1\n" });
    const p = backend.exec(h, ["sh", "-c", 'echo session > "$HOME/state"; echo v2 > work.txt; sleep 600 & sleep 600'], { attach: "capture" });
    procs.push(p);
    await waitFor(() => existsSync(join(h.hostHome, "state")) && readFileSync(join(h.hostWorkspace, "work.txt"), "utf8") === "v2\n", "the agent to write");
    await waitFor(() => processTree(p.pid).length >= 5, "the sandbox's processes");
    const tree = processTree(p.pid);
    expect((await backend.list()).find((b) => b.runId === h.runId)?.state).toBe("running");

    const snap = await backend.freeze(h);
    expect(tree.filter((pid) => isAlive(pid))).toEqual([]);
    expect((await backend.list()).find((b) => b.runId === h.runId)?.state).toBe("frozen");

    // Lose the live files: resume must bring them back from the snapshot.
    rmSync(h.hostHome, { recursive: true });
    writeFileSync(join(h.hostWorkspace, "work.txt"), "clobbered\n");
    const resumed = await backend.resume(snap);
    const r = await backend.provision(resumed, ["sh", "-c", 'cat "$HOME/state" work.txt']);
    expect(r.stdout).toBe("session\nv2\n");
    expect(resumed.resumedFrom).toBe(snap.ref);
  });

  test("teardown leaves no process and no mount behind", async () => {
    const h = await create();
    const p = backend.exec(h, ["sh", "-c", "sleep 600 & sleep 600"], { attach: "capture" });
    procs.push(p);
    await waitFor(() => processTree(p.pid).length >= 5, "the sandbox's processes");
    const tree = processTree(p.pid);
    expect((await backend.list()).map((b) => b.runId)).toContain(h.runId);
    await backend.teardown(h);
    expect((await p.exited).exitCode).not.toBe(0);
    expect(tree.filter((pid) => isAlive(pid))).toEqual([]);
    expect(mountsMention(h.hostHome)).toBe(false);
    expect((await backend.list()).map((b) => b.runId)).not.toContain(h.runId);
  });
});
