/**
 * Who the agent is in a docker bottle, attacked from inside. The container has no capabilities, but before
 * this its agent ran as the launcher's uid, and for a root launcher (CI containers, servers) that is uid 0
 * inside: the owner of every root-owned file of the image. With no capability at all it could still append
 * to /etc/passwd, replace a file of the agent CLI's root-owned install, plant a program in /usr/bin, read a
 * root-only 0600 file baked into the image, and chmod root's files and the proxy socket mounted in. Now a
 * root launcher's agent is uid/gid 65533 (as in the sandbox), which owns nothing in the image, and every one
 * of those attempts fails. An ordinary launcher's agent keeps the launcher's uid so its files stay theirs.
 * A container that dies at start leaves nothing lent (and, as before, no git placeholder: that leaked).
 * Each case has a positive control (the same probe writes the workspace and home, and root reads the
 * secret through `docker exec --user 0`), so a broken probe cannot pass for isolation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { DockerBackend } from "../../src/backends/docker/index.ts";
import { docker, dockerOk } from "../../src/backends/docker/cli.ts";
import { AGENT_HOST_ID } from "../../src/backends/sandbox/args.ts";
import type { BottleHandle } from "../../src/backends/types.ts";
import { BackendError } from "../../src/errors.ts";
import { echoProxy, freshWorkspace, planFor } from "../helpers/bottles.ts";
import { testBaseImage } from "../helpers/docker-image.ts";
import { AS_ROOT, BACKENDS } from "./bottles.ts";

setDefaultTimeout(180_000);

const SECRET = "/etc/bottle-image-secret";
const CLI = "/usr/local/lib/agent-cli/cli.js";
/** The uid the agent must be: 65533 for root, the launcher's own uid otherwise. */
const EXPECTED_UID = AS_ROOT ? AGENT_HOST_ID : process.getuid!();

/** Every attempt, in a bun script run inside: each prints its name and "ok" or the error code. */
const ATTACKS = `
const fs = require("node:fs");
const tries = {
  "append /etc/passwd": () => fs.appendFileSync("/etc/passwd", "evil:x:0:0::/:/bin/sh\\n"),
  "create /etc/planted": () => fs.writeFileSync("/etc/planted", "x"),
  "plant /usr/bin/planted": () => fs.writeFileSync("/usr/bin/planted", "#!/bin/sh\\n"),
  "replace the CLI's file": () => fs.writeFileSync(${JSON.stringify(CLI)}, "evil"),
  "read the image's 0600 secret": () => fs.readFileSync(${JSON.stringify(SECRET)}, "utf8"),
  "chmod /etc/passwd": () => fs.chmodSync("/etc/passwd", 0o666),
  "chmod the proxy socket": () => fs.chmodSync("/run/bottle/proxy.sock", 0o777),
  "chown a workspace file": () => fs.chownSync("mine.txt", 12345, 12345),
  "write the workspace": () => fs.writeFileSync("made-inside.txt", "y"),
  "write the home": () => fs.writeFileSync(process.env.HOME + "/made-inside.txt", "y"),
};
const out = {};
for (const [name, f] of Object.entries(tries)) {
  try { f(); out[name] = "ok"; } catch (e) { out[name] = e.code ?? String(e); }
}
const status = fs.readFileSync("/proc/self/status", "utf8");
out.uid = String(process.getuid());
out.gid = String(process.getgid());
out.noNewPrivs = /NoNewPrivs:\\s*(\\d)/.exec(status)?.[1];
out.capEff = /CapEff:\\s*(\\w+)/.exec(status)?.[1];
console.log(JSON.stringify(out));
`;

if (BACKENDS.includes("docker")) {
  describe("docker: the agent is not root and owns nothing of the image", () => {
    const proxy = echoProxy();
    const tag = `bottle-test-user-${process.pid}-${Date.now().toString(36)}`;
    const empty = `${tag}-empty`;
    let backend: DockerBackend;
    const open: BottleHandle[] = [];

    beforeAll(async () => {
      // The test base image plus a root-only secret and a root-owned "CLI install", as a provider image has.
      const base = await testBaseImage();
      const dockerfile = [`FROM ${base}`, `RUN umask 077 && echo image-secret > ${SECRET}`, `RUN mkdir -p ${join(CLI, "..")} && echo original > ${CLI}`].join("\n");
      await dockerOk(["build", "--tag", tag, "-"], `build ${tag}`, { input: `${dockerfile}\n`, timeoutMs: 300_000 });
      backend = new DockerBackend({ image: tag });
    }, 300_000);
    afterEach(async () => {
      for (const h of open.splice(0)) await backend.teardown(h);
    }, 120_000);
    afterAll(async () => {
      proxy.stop();
      await docker(["rmi", "--force", tag, empty], { timeoutMs: 120_000 });
    }, 120_000);

    test("every write, read and chmod of root's files fails; the workspace and home stay writable; no privileges", async () => {
      const ws = freshWorkspace({ "mine.txt": "x\n" });
      const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: ws }));
      open.push(h);
      const r = await backend.provision(h, [process.execPath, "-e", ATTACKS]);
      expect(r.stderr).toBe("");
      const out = JSON.parse(r.stdout) as Record<string, string>;
      // Positive controls: the probe runs and can write what it was given.
      expect(out["write the workspace"]).toBe("ok");
      expect(out["write the home"]).toBe("ok");
      const secret = await dockerOk(["exec", "--user", "0", h.container!, "cat", SECRET], "read the secret as root");
      expect(secret.trim()).toBe("image-secret");
      expect(out.uid).toBe(String(EXPECTED_UID));
      expect(out.gid).toBe(String(AS_ROOT ? AGENT_HOST_ID : process.getgid!()));
      expect(out.noNewPrivs).toBe("1");
      expect(out.capEff).toBe("0000000000000000");
      for (const attack of ["append /etc/passwd", "create /etc/planted", "plant /usr/bin/planted", "replace the CLI's file", "read the image's 0600 secret", "chmod /etc/passwd", "chmod the proxy socket", "chown a workspace file"]) {
        expect(`${attack}: ${out[attack]}`).toMatch(new RegExp(`^${attack.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: (EACCES|EPERM|EROFS)$`));
      }
      const passwd = await dockerOk(["exec", h.container!, "cat", "/etc/passwd"], "read /etc/passwd");
      expect(passwd).not.toContain("evil:");
    });

    test("files the agent makes belong to its uid during the run and to the launcher afterwards", async () => {
      const ws = freshWorkspace({ "README.md": "x\n" });
      const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: ws }));
      open.push(h);
      const r = await backend.provision(h, ["sh", "-c", 'echo y > made-inside && echo z > "$HOME/in-home"']);
      expect(r.exitCode).toBe(0);
      // No stat in the test image: the uid of what it made is read on the host while the bottle lives.
      expect(statSync(join(ws, "made-inside")).uid).toBe(EXPECTED_UID);
      expect(statSync(join(h.hostHome, "in-home")).uid).toBe(EXPECTED_UID);
      if (AS_ROOT) expect(statSync(join(ws, "README.md")).uid).toBe(AGENT_HOST_ID); // lent for the run
      await backend.teardown(open.pop()!);
      for (const f of ["made-inside", "README.md", "."]) expect(statSync(join(ws, f)).uid).toBe(process.getuid!());
      expect(statSync(join(h.hostHome, "in-home")).uid).toBe(process.getuid!());
    });
  
    test("a container that dies at start gives the workspace back and leaves no git placeholder", async () => {
      // An image with no files at all: bottle's bridge cannot even be loaded, so the container stops at once.
      await dockerOk(["import", "-", empty], `import ${empty}`, { input: new Uint8Array(10_240), timeoutMs: 120_000 });
      const ws = freshWorkspace({ "README.md": "x\n", ".git/HEAD": "ref: refs/heads/main\n", ".git/config": "[core]\n\tbare = false\n" });
      const e = await new DockerBackend({ image: empty }).create(planFor({ proxySocket: proxy.socketPath, cwd: ws })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BackendError);
      expect((e as Error).message).toContain("stopped at start");
      for (const f of ["README.md", ".", ".git/config"]) expect(statSync(join(ws, f)).uid).toBe(process.getuid!());
      expect(existsSync(join(ws, ".git/commondir"))).toBe(false);
      expect(existsSync(join(ws, ".git/config.worktree"))).toBe(false);
    });
  });
}
