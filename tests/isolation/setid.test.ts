/**
 * Nothing the agent leaves runs on the host with the launcher's identity for someone else. A file the
 * agent makes set-user-ID (or set-group-ID) in the workspace keeps that bit on the host with the
 * launcher's uid (for root, the agent's until teardown), and any other local user who can reach the
 * workspace runs it as that uid. Host control: the same plant, run directly, makes every file set-id.
 * Inside a sandbox bottle each way (creating with the bits, chmod, a copied binary) is refused, and no file
 * in the workspace has a set-id bit afterwards. (The docker backend keeps docker's default seccomp profile,
 * which allows these; docs/backends.md says so.)
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const PLANT = resolve(import.meta.dir, "../fixtures/setid-plant.ts");
const NAMES = ["created-setuid", "created-setgid", "chmod-setuid", "chmod-setgid", "copied-binary"];

let proxy: EchoProxy;
const b = bottles();
beforeAll(() => void (proxy = echoProxy()));
afterAll(async () => {
  await b.closeAll();
  proxy?.stop();
});

function setIdFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => (lstatSync(join(dir, n)).mode & 0o6000) !== 0);
}

test("control: run directly, the plant leaves five set-id files", () => {
  const dir = mkdtempSync(join(tmpdir(), "setid-"));
  try {
    const r = Bun.spawnSync([process.execPath, PLANT, dir], { stdout: "pipe", stderr: "pipe" });
    expect(r.stdout.toString().match(/^made /gm)?.length).toBe(NAMES.length);
    expect(setIdFiles(dir).sort()).toEqual([...NAMES].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sandbox bottle: every way of making a set-id file is refused, and the workspace holds none afterwards", async () => {
  const ws = freshWorkspace({ "README.md": "a project\n" });
  const h = await b.open("sandbox", planFor({ proxySocket: proxy.socketPath, cwd: ws }));
  const r = await b.run(h, [process.execPath, PLANT, ws]);
  await b.closeAll();
  expect(r.stdout).not.toContain("made ");
  for (const n of NAMES) expect(r.stdout).toMatch(new RegExp(`^(refused ${n}: EPERM|plain ${n} )`, "m"));
  expect(setIdFiles(ws)).toEqual([]);
});
