/**
 * Nothing the agent leaves runs on the host with the launcher's identity for someone else. A file the
 * agent makes set-user-ID (or set-group-ID) in the workspace keeps that bit on the host with the
 * launcher's uid (for root, the agent's until teardown), and any other local user who can reach the
 * workspace runs it as that uid. Host control: the same plant, run directly, makes every file set-id.
 * Inside a sandbox bottle each way (creating with the bits, chmod, a copied binary) is refused, and no file
 * in the workspace has a set-id bit afterwards. A docker bottle keeps docker's default seccomp profile,
 * which allows them: there the bits the agent set are cleared when the container is gone (each reported),
 * and a file that was set-id before the run keeps its bits.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { setLogger, type Logger } from "../../src/log.ts";
import { AS_ROOT, BACKENDS, bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const PLANT = resolve(import.meta.dir, "../fixtures/setid-plant.ts");
const NAMES = ["created-setuid", "created-setgid", "chmod-setuid", "chmod-setgid", "copied-binary"];

let proxy: EchoProxy;
const b = bottles();
const warnings: string[] = [];
const quiet: Logger = { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
beforeAll(() => {
  proxy = echoProxy();
  setLogger(quiet);
});
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

if (BACKENDS.includes("docker")) {
  test("docker bottle: the set-id bits the agent gave files are cleared once the container is gone; a set-id file from before keeps them", async () => {
    const ws = freshWorkspace({ "README.md": "a project\n" });
    writeFileSync(join(ws, "users-own"), "#!/bin/sh\n", { mode: 0o755 });
    chmodSync(join(ws, "users-own"), 0o4755);
    // Older than the sweep's one-second margin for the coarse file clock.
    await Bun.sleep(1500);
    const h = await b.open("docker", planFor({ proxySocket: proxy.socketPath, cwd: ws }));
    const r = await b.run(h, [process.execPath, PLANT, ws]);
    warnings.length = 0;
    await b.closeAll();
    // Docker's profile lets the agent make them (this is what the sweep is for).
    expect(r.stdout).toContain("made ");
    // A root launcher lends the workspace to the agent's uid, and the kernel clears set-id bits on that
    // chown: the user's own file loses them too. An ordinary launcher's is left as it was.
    expect(setIdFiles(ws)).toEqual(AS_ROOT ? [] : ["users-own"]);
    for (const n of r.stdout.match(/^made (\S+)/gm) ?? []) expect(warnings.some((w) => w.includes(join(ws, n.slice(5))) && w.includes("cleared"))).toBe(true);
  });
}
