/**
 * The host file system a bottle sees is an allowlist, attacked from inside real bottles: the agent reads
 * only what it was given. Each planted secret has a positive control on the host, so a broken probe cannot
 * pass for isolation. Before the allowlist, as root, every one of these reads succeeded in the sandbox:
 * /etc/shadow, a 0600 root file under /var/lib, another installation's CA key, the user database's home
 * while $HOME pointed elsewhere, and the agent owned root's files.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { AGENT_HOST_ID, SYSTEM_PATHS } from "../../src/backends/sandbox/args.ts";
import { echoProxy, freshWorkspace, NET_PROBE, planFor } from "../helpers/bottles.ts";
import { AS_ROOT, BACKENDS, bottles, plantDir, removePlanted, type BackendKind } from "./bottles.ts";

setDefaultTimeout(120_000);

const proxy = echoProxy();
const box = bottles();
afterEach(() => box.closeAll(), 120_000);
afterAll(() => {
  proxy.stop();
  removePlanted();
});

async function sh(kind: BackendKind, script: string, ...args: string[]): Promise<string> {
  const h = await box.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace() }));
  const r = await box.run(h, ["sh", "-c", script, "probe", ...args]);
  return r.stdout + r.stderr;
}

async function read(kind: BackendKind, path: string): Promise<string> {
  const h = await box.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace() }));
  const r = await box.run(h, [process.execPath, NET_PROBE, "file", path]);
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

/** A 0600 file only its owner (the launcher) can read, in a fresh planted directory. */
function plantSecret(rel: string, text: string): string {
  const p = join(plantDir(), rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text, { mode: 0o600 });
  expect(readFileSync(p, "utf8")).toBe(text);
  return p;
}

describe("sandbox: only the allowlist exists", () => {
  test("the root holds the system directories, the bottle's own paths and nothing else", async () => {
    const out = await sh("sandbox", "ls -A /; echo --; ls -A /var; echo --; ls -A /home");
    const [top, varDir, home] = out.split("--\n").map((s) => s.trim().split("\n").filter(Boolean));
    // What else may appear: the first component of bottle's own install, the workspace and TMPDIR paths.
    const own = new Set([process.execPath, process.cwd(), process.env.TMPDIR!].map((p) => p.split("/")[1]!));
    const allowed = new Set([...SYSTEM_PATHS.map((p) => p.slice(1)), "dev", "proc", "tmp", "var", "home", "run", ...own]);
    expect(top!.filter((n) => !allowed.has(n))).toEqual([]);
    for (const gone of ["root", "srv", "mnt", "opt", "sys", "boot", "media"]) expect(top).not.toContain(gone);
    expect(varDir).toEqual(["tmp"]);
    expect(home).toEqual(["bottle"]);
  });

  test("/etc is exposed without its secrets: the shadow files read empty, ssh host keys are gone", async () => {
    const hostShadow = (() => {
      try {
        return readFileSync("/etc/shadow", "utf8");
      } catch {
        return "";
      }
    })();
    const out = await sh("sandbox", "cat /etc/shadow /etc/gshadow 2>&1; echo; ls -A /etc/ssh 2>&1; echo; test -r /etc/hostname && echo hostname-readable");
    expect(out).not.toContain("root:");
    if (AS_ROOT) expect(hostShadow).toContain("root:"); // positive control: root reads it on the host
    expect(out).not.toMatch(/ssh_host_\w+_key/);
    expect(out).toContain("hostname-readable");
  });
});

for (const kind of BACKENDS) {
  describe(`${kind}: host secrets outside the bottle's own paths`, () => {
    test("a 0600 file of the launcher outside the workspace cannot be read", async () => {
      const secret = plantSecret("secret.env", "TOKEN=host-only");
      expect(await read(kind, secret)).toBe("ENOENT");
    });

    test("another bottle installation's CA key cannot be read", async () => {
      const key = plantSecret("other-bottle-home/ca/ca.key", "OTHER INSTALLATION CA KEY");
      writeFileSync(join(key, "..", "ca.pem"), "PUBLIC", { mode: 0o644 });
      expect(await read(kind, key)).toBe("ENOENT");
      expect(await read(kind, join(key, "..", "ca.pem"))).toBe("ENOENT");
    });

    test("the user database's home is hidden whatever $HOME says", async () => {
      const pwHome = userInfo().homedir;
      expect(process.env.HOME).not.toBe(pwHome); // tests/preload.ts points $HOME elsewhere
      expect(readdirSync(pwHome).length).toBeGreaterThan(0); // positive control: there is something to see
      const out = await sh(kind, 'ls -A "$1" 2>&1; echo end', pwHome);
      expect(out).toMatch(/^(ls: cannot access .*No such file or directory\n)?end\n$/);
    });
  });
}

describe("sandbox: who the agent is", () => {
  test("the agent does not own the host's system files (as root: an unprivileged uid that owns nothing)", async () => {
    const out = (await sh("sandbox", "id -u; stat -c %u /usr /etc/hostname")).trim().split("\n");
    const [uid, ...owners] = out;
    expect(uid).not.toBe("0");
    for (const o of owners) expect(o).not.toBe(uid);
    if (AS_ROOT) expect(uid).toBe(String(AGENT_HOST_ID));
  });

  test.if(AS_ROOT)("as root, the workspace is lent to the agent for the run and given back to root after", async () => {
    const ws = freshWorkspace({ "README.md": "x\n" });
    const h = await box.open("sandbox", planFor({ proxySocket: proxy.socketPath, cwd: ws }));
    const r = await box.run(h, ["sh", "-c", "echo y > made-inside && stat -c %u made-inside README.md ."]);
    expect(r.stdout.trim().split("\n")).toEqual([String(AGENT_HOST_ID), String(AGENT_HOST_ID), String(AGENT_HOST_ID)]);
    await box.closeAll();
    for (const f of ["made-inside", "README.md", "."]) expect(statSync(join(ws, f)).uid).toBe(0);
  });
});
