/**
 * Backend selection follows DESIGN §5 in order, and `bottle ps` (the real CLI, spawned) lists a live
 * sandbox bottle, then shows it frozen, then not at all after teardown.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { selectBackend, type Probe } from "../../src/backends/select.ts";
import type { Availability } from "../../src/backends/types.ts";
import { BackendError, UsageError } from "../../src/errors.ts";
import type { BackendName } from "../../src/manifest/types.ts";
import { echoProxy, freshWorkspace, planFor, REPO } from "../helpers/bottles.ts";

// Real bwrap/docker processes on a shared 2-core machine: generous bounds, never timing assertions.
setDefaultTimeout(60_000);

function probes(ok: Partial<Record<BackendName, boolean>>, asked: string[] = []): Probe {
  return async (name): Promise<Availability> => {
    asked.push(name);
    return ok[name] ? { ok: true } : { ok: false, reason: `${name} missing`, fix: `install ${name}` };
  };
}

describe("backend selection", () => {
  test("--backend wins, then BOTTLE_BACKEND, then the bottle, then settings", async () => {
    const all = probes({ docker: true, sandbox: true });
    expect(await selectBackend({ flag: "sandbox", env: "docker" }, all)).toEqual({ name: "sandbox", via: "flag" });
    expect(await selectBackend({ env: "sandbox" }, all)).toEqual({ name: "sandbox", via: "env" });
    expect(await selectBackend({ prefer: { name: "sandbox" }, settings: { name: "docker" } }, all)).toEqual({ name: "sandbox", via: "bottle" });
    expect(await selectBackend({ settings: { name: "sandbox" } }, all)).toEqual({ name: "sandbox", via: "settings" });
  });

  test("auto picks docker when an engine answers, else the sandbox on Linux, asking only what it needs", async () => {
    const asked: string[] = [];
    expect(await selectBackend({ platform: "linux" }, probes({ docker: true, sandbox: true }, asked))).toEqual({ name: "docker", via: "auto" });
    expect(asked).toEqual(["docker"]);
    expect(await selectBackend({ platform: "linux" }, probes({ sandbox: true }))).toEqual({ name: "sandbox", via: "auto" });
  });

  test("errors name the choice, the reason and what to install", async () => {
    await expect(selectBackend({ flag: "podman" }, probes({}))).rejects.toBeInstanceOf(UsageError);
    const chosen = await selectBackend({ flag: "docker" }, probes({ sandbox: true })).catch((e) => e);
    expect(chosen).toBeInstanceOf(BackendError);
    expect(chosen.message).toContain("--backend");
    expect(chosen.context.fix).toBe("install docker");
    const none = await selectBackend({ platform: "linux" }, probes({})).catch((e) => e);
    expect(none.message).toContain("docker: docker missing; sandbox: sandbox missing");
    expect(none.context.fix).toContain("bubblewrap");
    const mac = await selectBackend({ platform: "darwin" }, probes({ sandbox: true })).catch((e) => e);
    expect(mac.message).toContain("the sandbox backend needs Linux");
  });
});

describe("bottle ps", () => {
  const proxy = echoProxy();
  afterAll(() => proxy.stop());

  async function ps(): Promise<Record<string, unknown>[]> {
    const p = Bun.spawn([process.execPath, join(REPO, "src/cli/main.ts"), "ps", "--json"], { stdout: "pipe", stderr: "pipe", env: process.env });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    return JSON.parse(out);
  }

  test("lists a running bottle with its label, agent and backend, then frozen, then nothing after teardown", async () => {
    const backend = new SandboxBackend();
    const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace(), label: "ps-label", agent: "ps-agent" }));
    const p = backend.exec(h, ["sleep", "600"], { attach: "capture" });
    try {
      const running = (await ps()).find((b) => b.runId === h.runId);
      expect(running).toMatchObject({ label: "ps-label", agent: "ps-agent", backend: "sandbox", provider: "claude", state: "running" });
      expect(typeof running!.ageSeconds).toBe("number");
      await backend.freeze(h);
      expect((await ps()).find((b) => b.runId === h.runId)?.state).toBe("frozen");
      const resumed = await backend.resume((await import("../../src/backends/state.ts")).readRecord(h.runId)!.snapshot!);
      await backend.teardown(resumed);
      expect((await ps()).find((b) => b.runId === h.runId)).toBeUndefined();
    } finally {
      p.kill("SIGKILL");
      await backend.teardown(h);
    }
  });
});
