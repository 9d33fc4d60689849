/**
 * A fork bomb in a bottle does not take down the host (issue 12). A stand-in agent inside a real bottle
 * starts sleeping children until a fork fails, counting them, with a cap of its own (CAP, above the limit)
 * so that an unlimited bottle stops too. Without a limit the count reaches CAP; with bottle's limit
 * (DEFAULT_PIDS_LIMIT) the fork fails first, the count is below the limit, and the host can still start a
 * process while the bomb's children are alive. A bottle's own limit (backend.pids, here 300) holds the same way. Teardown kills them (the sandbox's pid namespace, the
 * container) and removes the sandbox's pids cgroup when it made one.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_PIDS_LIMIT } from "../../src/backends/process-limit.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { cgroupDir } from "../../src/backends/sandbox/pids-limit.ts";
import type { RunningProcess } from "../../src/backends/types.ts";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { BACKENDS, backendFor, bottles } from "./bottles.ts";

setDefaultTimeout(180_000);

const CAP = 3000;

let proxy: EchoProxy;
const b = bottles();
const procs: RunningProcess[] = [];
beforeAll(() => {
  proxy = echoProxy();
});
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await b.closeAll();
  proxy?.stop();
});

/** The bomb: children that hold a pid and nothing else; the count after each fork; `done` once it stops. */
function bomb(ws: string): string[] {
  const loop = `i=0; while [ $i -lt ${CAP} ]; do sleep 600 </dev/null >/dev/null 2>&1 & i=$((i+1)); echo $i > ${ws}/count; done`;
  // The outer shell forks once, before the bomb; afterwards it needs no fork (builtins, then exec).
  return ["sh", "-c", `sh -c '${loop}' 2>${ws}/err; echo $? > ${ws}/done; exec sleep 600`];
}

for (const [kind, configured] of BACKENDS.flatMap((k) => [[k, undefined], [k, 300]] as const)) {
  const limit = configured ?? DEFAULT_PIDS_LIMIT;
  test(`${kind} bottle: a fork bomb stops at the ${configured ? "configured" : "default"} process limit (${limit}) and the host can still start processes`, async () => {
    const ws = freshWorkspace();
    const h = await b.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: ws, ...(configured ? { pidsLimit: configured } : {}) }));
    const backend = await backendFor(kind);
    const p = backend.exec(h, bomb(ws), { attach: "capture" });
    procs.push(p);
    for (let i = 0; i < 3000 && !existsSync(join(ws, "done")); i++) await Bun.sleep(50);
    expect(existsSync(join(ws, "done"))).toBe(true);
    const count = Number(readFileSync(join(ws, "count"), "utf8").trim());
    // The host starts a process while every child the bomb could make is alive.
    const host = Bun.spawnSync(["true"]);
    expect(host.exitCode).toBe(0);
    expect(count).toBeLessThan(limit);
    // The limit stopped it, not anything else: a fork failed close to the limit.
    expect(count).toBeGreaterThan(limit - 100);
    expect(readFileSync(join(ws, "err"), "utf8")).toMatch(/fork/i);
    // Under root with a pids controller, the bottle's cgroup holds every one of them, and goes at teardown.
    const how = kind === "sandbox" ? (backend as SandboxBackend).pidsLimit(limit) : undefined;
    if (how?.kind === "cgroup") expect(Number(readFileSync(join(cgroupDir(how, h.runId), "pids.current"), "utf8"))).toBeGreaterThan(count);
    p.kill("SIGKILL");
    await b.closeAll();
    if (how?.kind === "cgroup") expect(existsSync(cgroupDir(how, h.runId))).toBe(false);
  });
}

test("sandbox bottle: freeze and teardown remove the bottle's pids cgroup (root with a pids controller), and a resumed bottle still runs", async () => {
  const backend = (await backendFor("sandbox")) as SandboxBackend;
  const how = backend.pidsLimit();
  const h = await b.open("sandbox", planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace() }));
  const p = backend.exec(h, ["sleep", "600"], { attach: "capture" });
  procs.push(p);
  if (how.kind === "cgroup") {
    for (let i = 0; i < 200 && Number(readFileSync(join(cgroupDir(how, h.runId), "pids.current"), "utf8")) < 2; i++) await Bun.sleep(25);
    expect(Number(readFileSync(join(cgroupDir(how, h.runId), "pids.current"), "utf8"))).toBeGreaterThanOrEqual(2);
  }
  const snap = await backend.freeze(h);
  expect(existsSync(cgroupDir({ root: how.kind === "cgroup" ? how.root : "/nonexistent" }, h.runId))).toBe(false);
  const resumed = await backend.resume(snap);
  const r = await backend.provision(resumed, ["sh", "-c", "echo resumed"]);
  expect(r.stdout).toBe("resumed\n");
  await backend.teardown(resumed);
  expect(existsSync(cgroupDir({ root: how.kind === "cgroup" ? how.root : "/nonexistent" }, h.runId))).toBe(false);
});
