/**
 * A sandbox bottle finds the agent CLI when the PATH directory that holds it is reached through a
 * symlinked directory in a part of the file system the bottle sees read-only (a dotfiles or tool-manager
 * layout). bubblewrap cannot bind over a path that runs through a symlink, so the plan exposes the real
 * directory and puts it first on the bottle's PATH.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import type { BottleHandle } from "../../src/backends/types.ts";
import { buildPlan } from "../../src/providers/plan.ts";
import { echoProxy, freshWorkspace, REPO } from "../helpers/bottles.ts";

const backend = new SandboxBackend();
const proxy = echoProxy();
// The link must sit where the bottle sees the host read-only (not under /tmp or $HOME, which it hides).
mkdirSync(join(REPO, ".cache"), { recursive: true });
const linkRoot = mkdtempSync(join(REPO, ".cache", "path-link-"));
let handle: BottleHandle | undefined;

afterAll(async () => {
  if (handle) await backend.teardown(handle);
  proxy.stop();
  rmSync(linkRoot, { recursive: true, force: true });
});

test("the CLI runs from a PATH entry that is a symlinked directory", async () => {
  const realBin = join(freshWorkspace(), "real-bin");
  mkdirSync(realBin);
  writeFileSync(join(realBin, "claude"), "#!/bin/sh\necho claude-from-symlinked-dir \"$@\"\n");
  chmodSync(join(realBin, "claude"), 0o755);
  const linkedBin = join(linkRoot, "bin");
  symlinkSync(realBin, linkedBin);
  const ca = join(freshWorkspace({ "ca.pem": "not a real certificate; the stand-in CLI never reads it\n" }), "ca.pem");
  const plan = buildPlan({ runId: `symlink-${process.pid}`, label: "l", agent: "a", provider: "claude", backend: "sandbox", cwd: freshWorkspace(), proxy: { socketPath: proxy.socketPath, caCertPath: ca }, hostPath: `${linkedBin}:/usr/bin:/bin` });
  expect(plan.expose).toContain(realBin);
  expect(plan.expose).not.toContain(linkedBin);
  handle = await backend.create(plan);
  const r = await backend.provision(handle, ["claude", "--version"]);
  expect(r.stderr).toBe("");
  expect(r.stdout.trim()).toBe("claude-from-symlinked-dir --version");
  expect(r.exitCode).toBe(0);
});
