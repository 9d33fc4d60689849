/**
 * The sandbox backend is an isolation boundary: from inside a real bubblewrap bottle, every way out except
 * the proxy bridge fails, and the CA key is invisible. Each denial has a positive control on the host, so a
 * broken probe cannot pass for isolation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { agentIdentity } from "../../src/backends/sandbox/host-view.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import type { BottleHandle } from "../../src/backends/types.ts";
import { echoProxy, freshWorkspace, hostLanAddress, NET_PROBE, planFor, type EchoProxy } from "../helpers/bottles.ts";

// Real bwrap/docker processes on a shared 2-core machine: generous bounds, never timing assertions.
setDefaultTimeout(60_000);

const backend = new SandboxBackend();
let proxy: EchoProxy;
const handles: BottleHandle[] = [];
const servers: Server[] = [];

async function bottle(over: { cwd?: string } = {}): Promise<BottleHandle> {
  const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: over.cwd ?? freshWorkspace() }));
  handles.push(h);
  return h;
}

async function probe(h: BottleHandle, ...args: string[]): Promise<string> {
  const r = await backend.provision(h, [process.execPath, NET_PROBE, ...args]);
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

async function hostProbe(...args: string[]): Promise<string> {
  const p = Bun.spawn([process.execPath, NET_PROBE, ...args], { stdout: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out.trim();
}

function listen(host: string): Promise<number> {
  const s = createServer((c) => {
    c.on("error", () => {});
    c.end("hi\n");
  });
  servers.push(s);
  return new Promise((res) => s.listen(0, host, () => res((s.address() as { port: number }).port)));
}

beforeAll(async () => {
  const a = await backend.available();
  if (!a.ok) throw new Error(`sandbox backend unavailable: ${a.reason}`);
  proxy = echoProxy();
});
afterEach(async () => {
  for (const h of handles.splice(0)) await backend.teardown(h);
}, 120_000);
afterAll(() => {
  proxy?.stop();
  for (const s of servers) s.close();
});

describe("sandbox bottle network isolation", () => {
  test("a loopback service on the host is unreachable from inside", async () => {
    const port = await listen("127.0.0.1");
    expect(await hostProbe("tcp", "127.0.0.1", String(port))).toBe("CONNECTED");
    expect(await probe(await bottle(), "tcp", "127.0.0.1", String(port))).toBe("ECONNREFUSED");
  });

  test("a host service on 0.0.0.0 is unreachable through the host's own address", async () => {
    const addr = hostLanAddress();
    if (!addr) throw new Error("this host has no non-loopback IPv4 address to test against");
    const port = await listen("0.0.0.0");
    expect(await hostProbe("tcp", addr, String(port))).toBe("CONNECTED");
    expect(await probe(await bottle(), "tcp", addr, String(port))).not.toBe("CONNECTED");
  });

  test("a public IP is unreachable with the proxy variables unset", async () => {
    const h = await bottle();
    const r = await backend.provision(h, ["env", "-u", "HTTPS_PROXY", "-u", "https_proxy", "-u", "ALL_PROXY", "-u", "all_proxy", "curl", "-sS", "--max-time", "5", "https://1.1.1.1/"]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/connect|unreachable/i);
    expect(await probe(h, "tcp", "1.1.1.1", "443")).not.toBe("CONNECTED");
  });

  test("DNS resolution of an outside name fails", async () => {
    const h = await bottle();
    expect(await probe(h, "dns", "example.com")).not.toStartWith("RESOLVED");
    const r = await backend.provision(h, ["getent", "hosts", "example.com"]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toBe("");
  });

  test("host unix sockets (the docker socket, other runs' proxies) are not visible", async () => {
    const dir = join(process.env.TMPDIR!, "host-sock");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "svc.sock");
    const s = createServer((c) => {
      c.on("error", () => {});
      c.end("hi");
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(path, () => r()));
    expect(await hostProbe("unix", path)).toBe("CONNECTED");
    const h = await bottle();
    expect(await probe(h, "unix", path)).toBe("ENOENT");
    expect(await probe(h, "unix", "/var/run/docker.sock")).toBe("ENOENT");
    expect(await probe(h, "unix", proxy.socketPath)).toBe("ENOENT");
  });

  test("the bridge carries HTTPS_PROXY traffic to the proxy's unix socket", async () => {
    const h = await bottle();
    const r = await backend.provision(h, ["curl", "-sS", "--max-time", "10", "http://metered.example/v1/x"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("via-proxy GET http://metered.example/v1/x\n");
    expect(proxy.requests).toContain("http://metered.example/v1/x");
  });
});

describe("sandbox bottle file-system isolation", () => {
  test("the CA key cannot be read, even when the workspace contains $BOTTLE_HOME", async () => {
    // A bottle home of its own, so the fake key never meets the real proxy tests' CA.
    const home = join(mkdtempSync(join(tmpdir(), "bh-")), "bottle-home");
    const own = new SandboxBackend({ home });
    const caDir = join(home, "ca");
    mkdirSync(caDir, { recursive: true });
    writeFileSync(join(caDir, "ca.pem"), "PUBLIC CERT");
    writeFileSync(join(caDir, "ca.key"), "PRIVATE KEY MATERIAL", { mode: 0o600 });
    expect(await hostProbe("file", join(caDir, "ca.key"))).toBe("READ");
    for (const cwd of [freshWorkspace(), join(home, "..")]) {
      const h = await own.create(planFor({ proxySocket: proxy.socketPath, cwd, caCertPath: join(caDir, "ca.pem") }));
      try {
        expect((await own.provision(h, [process.execPath, NET_PROBE, "file", join(caDir, "ca.key")])).stdout).toBe("ENOENT\n");
        const r = await own.provision(h, ["sh", "-c", 'cat "$0" 2>&1; ls -A "$1" 2>&1; cat "$2"', join(caDir, "ca.key"), caDir, "/run/bottle/ca.pem"]);
        expect(r.stdout).not.toContain("PRIVATE KEY MATERIAL");
        // The key fails to read, the CA directory is absent (or empty where the workspace contains it), and
        // only the public certificate is mounted.
        expect(r.stdout).toMatch(/^cat: .*ca\.key: No such file or directory\n(ls: cannot access .*ca': No such file or directory\n)?PUBLIC CERT$/);
      } finally {
        await own.teardown(h);
      }
    }
  });

  test("the host file system is read-only; home and workspace are writable; the agent is not root", async () => {
    const ws = freshWorkspace({ "README.md": "project\n" });
    const h = await bottle({ cwd: ws });
    const r = await backend.provision(h, ["sh", "-c", 'id -u; echo x > "$HOME/h" && echo home-ok; echo y > w && echo ws-ok; touch /etc/bottle-test 2>&1 || echo etc-denied; cat README.md']);
    // An ordinary launcher's agent is uid 1000 in a user namespace; root's is AGENT_HOST_ID (never 0).
    expect(r.stdout.split("\n")).toEqual([String(agentIdentity().uid), "home-ok", "ws-ok", expect.stringContaining("Read-only"), "etc-denied", "project", ""]);
    expect(await Bun.file(join(ws, "w")).text()).toBe("y\n");
    expect(await Bun.file(join(h.hostHome, "h")).text()).toBe("x\n");
  });

  test("git hooks in a bind-mounted workspace are read-only inside", async () => {
    const ws = freshWorkspace({ ".git/hooks/pre-commit": "#!/bin/sh\n", "src.txt": "a" });
    const h = await bottle({ cwd: ws });
    const r = await backend.provision(h, ["sh", "-c", "echo evil > .git/hooks/pre-commit 2>/dev/null || echo hooks-denied; echo b > src.txt && echo src-ok"]);
    expect(r.stdout).toBe("hooks-denied\nsrc-ok\n");
    expect(await Bun.file(join(ws, ".git/hooks/pre-commit")).text()).toBe("#!/bin/sh\n");
  });

  test("host environment secrets do not leak into the bottle", async () => {
    process.env.SOME_HOST_SECRET_TOKEN = "s3cr3t";
    try {
      const r = await backend.provision(await bottle(), ["env"]);
      expect(r.stdout).not.toContain("s3cr3t");
      expect(r.stdout).toContain("HTTPS_PROXY=http://127.0.0.1:8877");
    } finally {
      delete process.env.SOME_HOST_SECRET_TOKEN;
    }
  });
});
