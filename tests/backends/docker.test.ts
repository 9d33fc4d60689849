/**
 * The docker backend against a real engine, with an image assembled from this host's files (no registry
 * is reachable). Same isolation contract as the sandbox: every way out but the bridge fails, the CA key is
 * invisible, a metered request through the real proxy is metered; freeze commits and resume restores;
 * teardown leaves no container, network, image or process behind. When docker is installed but no engine
 * answers, these tests fail with the engine's own reason (run scripts/start-docker.sh); they never skip
 * silently.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker } from "../../src/backends/docker/cli.ts";
import { DockerBackend } from "../../src/backends/docker/index.ts";
import { agentUser, SNAPSHOT_LABEL } from "../../src/backends/docker/args.ts";
import { ensureImage, providerDockerfile } from "../../src/backends/docker/images.ts";
import { isAlive, processTree } from "../../src/backends/procs.ts";
import type { BottleHandle, RunningProcess } from "../../src/backends/types.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import type { EgressProxy, RunHandle } from "../../src/proxy/proxy.ts";
import type { Simulator } from "../../src/simulator/server.ts";
import { echoProxy, freshWorkspace, hostLanAddress, NET_PROBE, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { testBaseImage } from "../helpers/docker-image.ts";
import { collectingMeterHooks } from "../helpers/metering-hooks.ts";
import { bottleCa, startTlsSimulator, testProxy } from "../support/proxy-fixture.ts";

// Real bwrap/docker processes on a shared 2-core machine: generous bounds, never timing assertions.
setDefaultTimeout(60_000);

const expected = Bun.which("docker") !== null || !!process.env.CI;
let backend: DockerBackend;
let image: string;
let proxy: EchoProxy;
const handles: BottleHandle[] = [];
const servers: Server[] = [];
const procs: RunningProcess[] = [];

async function bottle(over: { cwd?: string; workspace?: "bind" | "copy" } = {}): Promise<BottleHandle> {
  const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: over.cwd ?? freshWorkspace(), workspace: over.workspace ?? "bind" }));
  handles.push(h);
  return h;
}

async function probe(h: BottleHandle, ...args: string[]): Promise<string> {
  const r = await backend.provision(h, [process.execPath, NET_PROBE, ...args]);
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

function listen(host: string): Promise<number> {
  const s = createServer((c) => {
    c.on("error", () => {});
    c.end("hi\n");
  });
  servers.push(s);
  return new Promise((res) => s.listen(0, host, () => res((s.address() as { port: number }).port)));
}

if (!expected) {
  describe("docker backend", () => {
    test.skip("docker is not installed on this machine: the docker backend was not tested", () => {});
  });
} else {
  beforeAll(async () => {
    backend = new DockerBackend();
    const a = await backend.available();
    if (!a.ok) throw new Error(`docker backend expected but unavailable: ${a.reason} (run scripts/start-docker.sh)`);
    image = await testBaseImage();
    backend = new DockerBackend({ image });
    proxy = echoProxy();
  }, 300_000);
  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill("SIGKILL");
    for (const h of handles.splice(0)) await backend.teardown(h);
  }, 120_000);
  afterAll(() => {
    proxy?.stop();
    for (const s of servers) s.close();
  });

  describe("docker bottle isolation", () => {
    test("host services on loopback and on 0.0.0.0, public IPs and DNS are unreachable", async () => {
      const h = await bottle();
      const lo = await listen("127.0.0.1");
      expect(await probe(h, "tcp", "127.0.0.1", String(lo))).toBe("ECONNREFUSED");
      const any = await listen("0.0.0.0");
      const lan = hostLanAddress();
      if (!lan) throw new Error("this host has no non-loopback IPv4 address to test against");
      for (const addr of [lan, "172.17.0.1"]) expect(await probe(h, "tcp", addr, String(any))).not.toBe("CONNECTED");
      expect(await probe(h, "tcp", "1.1.1.1", "443")).not.toBe("CONNECTED");
      const r = await backend.provision(h, ["env", "-u", "HTTPS_PROXY", "-u", "https_proxy", "curl", "-sS", "--max-time", "5", "https://1.1.1.1/"]);
      expect(r.exitCode).not.toBe(0);
      expect(await probe(h, "dns", "example.com")).not.toStartWith("RESOLVED");
      expect(await probe(h, "unix", "/var/run/docker.sock")).toBe("ENOENT");
    }, 120_000);

    test("the CA key is never in the container; the bridge reaches the proxy; the agent's files belong to the user", async () => {
      const home = join(mkdtempSync(join(tmpdir(), "bh-")), "bottle-home");
      const own = new DockerBackend({ image, home });
      mkdirSync(join(home, "ca"), { recursive: true });
      writeFileSync(join(home, "ca", "ca.pem"), "PUBLIC CERT");
      writeFileSync(join(home, "ca", "ca.key"), "PRIVATE KEY MATERIAL", { mode: 0o600 });
      const ws = freshWorkspace();
      const h = await own.create(planFor({ proxySocket: proxy.socketPath, cwd: ws, caCertPath: join(home, "ca", "ca.pem") }));
      try {
        const r = await own.provision(h, ["sh", "-c", 'cat "$0" 2>&1; cat /run/bottle/ca.pem; echo; curl -sS http://metered.example/v1/y; echo w > out.txt', join(home, "ca", "ca.key")]);
        expect(r.stdout).not.toContain("PRIVATE KEY MATERIAL");
        expect(r.stdout).toMatch(/No such file or directory\nPUBLIC CERT\nvia-proxy GET http:\/\/metered.example\/v1\/y\n$/);
        expect(readFileSync(join(ws, "out.txt"), "utf8")).toBe("w\n");
        // The agent's own uid while it runs (65533 when root launched it), the user's once the run is over.
        expect(statSync(join(ws, "out.txt")).uid).toBe(agentUser({ uid: process.getuid!(), gid: process.getgid!() }).uid);
      } finally {
        await own.teardown(h);
      }
      expect(statSync(join(ws, "out.txt")).uid).toBe(process.getuid!());
    }, 120_000);
  });

  describe("docker bottle bridge", () => {
    test("the bridge (under the container's init) runs with Bun's GC timer off; a process exec'd in the container does not inherit it", async () => {
      const h = await bottle();
      const inspected = await docker(["inspect", "--format", "{{.State.Pid}}", h.container!]);
      const init = inspected.stdout.trim();
      const [bridge] = readFileSync(`/proc/${init}/task/${init}/children`, "utf8").trim().split(/\s+/);
      expect(readFileSync(`/proc/${bridge}/cmdline`, "utf8").split("\0")).toContain("__bridge");
      expect(readFileSync(`/proc/${bridge}/environ`, "utf8").split("\0")).toContain("BUN_GC_TIMER_DISABLE=1");
      const r = await backend.provision(h, ["env"]);
      expect(r.stdout).toContain("HOME="); // positive control: the exec'd process's environment
      expect(r.stdout).not.toContain("BUN_GC_");
    }, 120_000);
  });

  describe("docker bottle metering", () => {
    let sim: Simulator;
    let realProxy: EgressProxy;
    let run: RunHandle;
    afterAll(async () => {
      await run?.close();
      await realProxy?.close();
      await sim?.close();
    });

    test("a request to a metered API host from inside goes through the MITM proxy and is metered", async () => {
      sim = startTlsSimulator({ text: "metered from docker" });
      const results: (MeterResult & { host: string; path: string })[] = [];
      realProxy = testProxy({ hooks: collectingMeterHooks(results) });
      const runId = `dm-${process.pid}-${Date.now()}`;
      run = await realProxy.openRun({ runId, routes: [{ host: "api.anthropic.com", upstream: sim.url }] });
      const h = await backend.create(planFor({ runId, proxySocket: run.socketPath, caCertPath: bottleCa().certPath, cwd: freshWorkspace() }));
      handles.push(h);
      const body = JSON.stringify({ model: "claude-test", max_tokens: 32, stream: true, messages: [{ role: "user", content: "hi" }] });
      const r = await backend.provision(h, ["curl", "-sS", "--cacert", "/run/bottle/ca.pem", "-H", "content-type: application/json", "-H", "x-api-key: placeholder", "-d", body, "https://api.anthropic.com/v1/messages"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("metered");
      expect(results.map((m) => [m.host, m.kind, m.usage.totalTokens])).toEqual([["api.anthropic.com", "usage", 37]]);
    }, 120_000);
  });

  describe("docker freeze, resume, teardown, images", () => {
    test("freeze commits the container and keeps home and workspace; resume restores all three", async () => {
      const h = await bottle({ workspace: "copy", cwd: freshWorkspace({ "w.txt": "v1\n" }) });
      const r = await backend.provision(h, ["sh", "-c", 'echo session > "$HOME/state"; echo v2 > w.txt; echo layer > /var/tmp/in-image']);
      expect(r.exitCode).toBe(0);
      const snap = await backend.freeze(h);
      expect((await docker(["ps", "-a", "--filter", `label=bottle.run=${h.runId}`, "--quiet"])).stdout.trim()).toBe("");
      expect((await backend.list()).find((b) => b.runId === h.runId)?.state).toBe("frozen");
      rmSync(h.hostHome, { recursive: true });
      writeFileSync(join(h.hostWorkspace, "w.txt"), "clobbered\n");
      const resumed = await backend.resume(snap);
      handles.push(resumed);
      const out = await backend.provision(resumed, ["sh", "-c", 'cat "$HOME/state" w.txt /var/tmp/in-image']);
      expect(out.stdout).toBe("session\nv2\nlayer\n");
      expect((await backend.list()).find((b) => b.runId === h.runId)?.state).toBe("running");
    }, 120_000);

    test("teardown leaves no container, network, snapshot image or process behind", async () => {
      const networks = (await docker(["network", "ls", "--quiet"])).stdout;
      const h = await bottle();
      const p = backend.exec(h, ["sleep", "600"], { attach: "capture" });
      procs.push(p);
      const snap = await backend.freeze(h);
      const resumed = await backend.resume(snap);
      const p2 = backend.exec(resumed, ["sleep", "600"], { attach: "capture" });
      procs.push(p2);
      for (let i = 0; i < 200 && (await docker(["top", `bottle-${h.runId}`])).stdout.split("\n").filter((l) => l.includes("sleep")).length < 1; i++) await Bun.sleep(50);
      await backend.teardown(resumed);
      handles.splice(handles.indexOf(h), 1);
      expect((await p2.exited).exitCode).not.toBe(0);
      expect(isAlive(p2.pid)).toBe(false);
      expect(processTree(p.pid)).toEqual([]);
      expect((await docker(["ps", "-a", "--quiet", "--filter", `label=bottle.run=${h.runId}`])).stdout).toBe("");
      expect((await docker(["images", "--quiet", "--filter", `label=bottle.snapshot-of=${h.runId}`])).stdout).toBe("");
      expect((await docker(["network", "ls", "--quiet"])).stdout).toBe(networks);
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(h.hostHome);
      expect((await backend.list()).map((b) => b.runId)).not.toContain(h.runId);
    }, 120_000);

    test("an exec started at the moment of a freeze never leaves the container frozen with a runc init inside", async () => {
      // Docker 20.10 hangs on a container paused while an exec is being set up; bottle waits for the exec.
      let h = await bottle();
      for (let i = 0; i < 10; i++) {
        procs.push(backend.exec(h, ["sleep", "30"], { attach: "capture" }));
        const snap = await backend.freeze(h);
        handles.splice(handles.indexOf(h), 1);
        expect((await docker(["ps", "-a", "--quiet", "--filter", `label=bottle.run=${h.runId}`], { timeoutMs: 30_000 })).stdout).toBe("");
        h = await backend.resume(snap);
        handles.push(h);
      }
      // Ten freezes leave a chain of snapshot images, each on top of the last: teardown removes them all
      // (docker refuses a parent before its children, whatever the order it is given).
      for (const p of procs.splice(0)) p.kill("SIGKILL");
      handles.splice(handles.indexOf(h), 1);
      await backend.teardown(h);
      expect((await docker(["images", "--quiet", "--filter", `label=${SNAPSHOT_LABEL}=${h.runId}`], { timeoutMs: 30_000 })).stdout.trim()).toBe("");
    }, 300_000);

    test("an image is built on first use and reused while its Dockerfile is unchanged", async () => {
      const marker = `${process.pid}-${Date.now()}`;
      const dockerfile = `FROM ${image}\nRUN ["/usr/bin/sh", "-c", "echo ${marker} > /built"]\n`;
      const first = await ensureImage("test-derived", dockerfile);
      const second = await ensureImage("test-derived", dockerfile);
      try {
        expect(first.built).toBe(true);
        expect(second).toEqual({ tag: first.tag, built: false });
        const changed = await ensureImage("test-derived", `${dockerfile}# changed\n`);
        expect(changed.tag).not.toBe(first.tag);
        await docker(["rmi", changed.tag]);
      } finally {
        await docker(["rmi", first.tag]);
      }
      const claude = providerDockerfile("claude");
      expect(claude).toContain("npm install -g --ignore-scripts @anthropic-ai/claude-code@2.1.197");
      expect(providerDockerfile("codex")).not.toBe(claude);
    }, 120_000);
  });
}
