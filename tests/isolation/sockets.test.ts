/**
 * No host unix socket is reachable from a bottle, wherever it lives. A network namespace does not stop a
 * pathname socket (connect needs only write permission on the inode, and a read-only mount does not take
 * that away), so this rests on the file-system allowlist and, for root, on the agent's unprivileged uid.
 * Before the allowlist, as root, a socket under /var/lib answered from inside the sandbox.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { echoProxy, freshWorkspace, NET_PROBE, planFor } from "../helpers/bottles.ts";
import { AS_ROOT, BACKENDS, bottles, plantDir, removePlanted, type BackendKind } from "./bottles.ts";

setDefaultTimeout(120_000);

const proxy = echoProxy();
const box = bottles();
const servers: Server[] = [];
const files: string[] = [];
afterEach(() => box.closeAll(), 120_000);
afterAll(() => {
  proxy.stop();
  for (const s of servers) s.close();
  for (const f of files) rmSync(f, { force: true });
  removePlanted();
});

async function listenUnix(path: string, mode = 0o600): Promise<string> {
  const s = createServer((c) => {
    c.on("error", () => {});
    c.end("hi");
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(path, () => r()));
  if (!path.startsWith("\0")) chmodSync(path, mode);
  return path;
}

async function probeUnix(kind: BackendKind, path: string): Promise<string> {
  const h = await box.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace() }));
  const r = await box.run(h, [process.execPath, NET_PROBE, "unix", path]);
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

async function hostProbe(path: string): Promise<string> {
  const p = Bun.spawn([process.execPath, NET_PROBE, "unix", path], { stdout: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return out.trim();
}

for (const kind of BACKENDS) {
  describe(`${kind}: host unix sockets`, () => {
    test("a 0600 socket of the launcher outside /tmp, /run and /home is unreachable", async () => {
      const path = await listenUnix(join(plantDir(), "svc.sock"));
      expect(await hostProbe(path)).toBe("CONNECTED");
      expect(await probeUnix(kind, path)).not.toBe("CONNECTED");
    });

    test("a world-writable socket outside the bottle's paths is unreachable too", async () => {
      const path = await listenUnix(join(plantDir(), "open.sock"), 0o777);
      expect(await hostProbe(path)).toBe("CONNECTED");
      expect(await probeUnix(kind, path)).not.toBe("CONNECTED");
    });

    test("an abstract socket on the host is unreachable (it belongs to the host's network namespace)", async () => {
      const name = `bottle-iso-${process.pid}-${kind}`;
      await listenUnix(`\0${name}`);
      expect(await hostProbe(`@${name}`)).toBe("CONNECTED");
      expect(await probeUnix(kind, `@${name}`)).not.toBe("CONNECTED");
    });

    test("the docker engine's socket is unreachable", async () => {
      expect(await probeUnix(kind, "/var/run/docker.sock")).not.toBe("CONNECTED");
      expect(await probeUnix(kind, "/run/docker.sock")).not.toBe("CONNECTED");
    });
  });
}

describe("sandbox: sockets inside exposed directories", () => {
  test.if(AS_ROOT)("a root socket inside the workspace stays root's: lending the workspace does not lend it", async () => {
    const ws = freshWorkspace();
    const path = await listenUnix(join(ws, "dev.sock"));
    expect(await hostProbe(path)).toBe("CONNECTED");
    const h = await box.open("sandbox", planFor({ proxySocket: proxy.socketPath, cwd: ws }));
    const r = await box.run(h, [process.execPath, NET_PROBE, "unix", path]);
    expect(r.stdout.trim()).toBe("EACCES");
  });

  test.if(AS_ROOT)("a world-writable socket placed in /etc is covered", async () => {
    const path = `/etc/bottle-iso-${process.pid}.sock`;
    files.push(path);
    if (existsSync(path)) rmSync(path);
    await listenUnix(path, 0o777);
    expect(await hostProbe(path)).toBe("CONNECTED");
    expect(await probeUnix("sandbox", path)).not.toBe("CONNECTED");
  });
});
