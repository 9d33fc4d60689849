/**
 * Control across hosts: a run owned by a process on host A (its own BOTTLE_HOME) is cut off and restored
 * from host B through the real CLI, on one Postgres ledger. Host B cannot see A's process (a pid means
 * nothing across machines), so it queues the command and A's poller carries it out; the CLI reports A's
 * outcome. `bottle ps` on B lists only B's bottles; `bottle ps --all` lists A's run with its host.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { sendControl } from "../../src/enforce/control.ts";
import { sqlCommandSender } from "../../src/enforce/sql-store.ts";
import { connectLedger, registerRun } from "../../src/ledger/index.ts";
import { stopRun } from "../../src/runs/stop.ts";
import { runCli, runCliJson, freshHome } from "../support/cli.ts";
import { freshPgLedger } from "../support/postgres.ts";
import { killStandins, startStandin } from "../support/standin.ts";

setDefaultTimeout(90_000);
afterEach(() => killStandins());

test("host B cuts off and restores host A's run through the shared ledger; ps --all shows A's run and host", async () => {
  const url = freshPgLedger();
  const saved = process.env.BOTTLE_HOST_NAME;
  process.env.BOTTLE_HOST_NAME = "host-a";
  try {
    await startStandin(url, "far-run", "far-agent");
  } finally {
    if (saved === undefined) delete process.env.BOTTLE_HOST_NAME;
    else process.env.BOTTLE_HOST_NAME = saved;
  }
  const hostB = { home: freshHome(), env: { BOTTLE_LEDGER_URL: url, BOTTLE_HOST_NAME: "host-b" } };

  expect(await runCliJson(["budget", "cutoff", "far-run"], hostB)).toEqual({ runId: "far-run", command: "cutoff", result: "done" });
  expect(await runCliJson(["budget", "restore", "far-agent"], hostB)).toEqual({ runId: "far-run", command: "restore", result: "done" });
  const db = connectLedger({ path: url });
  try {
    const acts = await db.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", "far-run").orderBy("id").execute();
    expect(acts).toEqual([
      { kind: "cutoff", trigger: "user" },
      { kind: "restore", trigger: "user" },
    ]);
  } finally {
    await db.destroy();
  }

  const local = await runCli(["ps", "--json"], hostB);
  expect(local.code).toBe(0);
  expect(JSON.parse(local.stdout)).toEqual([]);
  const all = await runCliJson<Array<Record<string, unknown>>>(["ps", "--all", "--json"], hostB);
  expect(all).toEqual([expect.objectContaining({ runId: "far-run", label: "far-agent", agent: "far-agent", state: "running", host: "host-a" })]);
  const table = await runCli(["ps", "--all"], hostB);
  expect(table.stdout).toMatch(/far-run\s+far-agent\s+far-agent\s+\S+\s+host-a\s+\d+s\s+running/);
});

test("a pid is judged only on its own host: another host queues the command instead of calling the run dead", async () => {
  const url = freshPgLedger();
  const db = connectLedger({ path: url });
  try {
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    await registerRun(db, { id: "elsewhere", agent: "a", pid: dead.pid, host: "host-a" });
    const sender = sqlCommandSender(db);
    // On host A the process is known to be gone: an error at once, nothing queued.
    await expect(sendControl(sender, "elsewhere", "cutoff", { hostName: "host-a", timeoutMs: 300 })).rejects.toThrow(/is not live \(its process \d+ has ended\)/);
    expect(await db.selectFrom("commands").selectAll().execute()).toEqual([]);
    // On host B that pid means nothing: the command is queued for host A's poller.
    await expect(sendControl(sender, "elsewhere", "cutoff", { hostName: "host-b", timeoutMs: 300 })).rejects.toThrow(/did not act on `cutoff` in time/);
    expect((await db.selectFrom("commands").select(["run_id", "command"]).execute())).toEqual([{ run_id: "elsewhere", command: "cutoff" }]);
  } finally {
    await db.destroy();
  }
});

test("bottle stop from another host hands the run to its owner; a pid dead here is not taken as a dead run there", async () => {
  const url = freshPgLedger();
  const saved = process.env.BOTTLE_HOST_NAME;
  process.env.BOTTLE_HOST_NAME = "host-a";
  let owner;
  try {
    owner = await startStandin(url, "far-stop", "stopper");
  } finally {
    if (saved === undefined) delete process.env.BOTTLE_HOST_NAME;
    else process.env.BOTTLE_HOST_NAME = saved;
  }
  expect(await runCliJson(["stop", "far-stop"], { home: freshHome(), env: { BOTTLE_LEDGER_URL: url, BOTTLE_HOST_NAME: "host-b" } })).toEqual({ runId: "far-stop", via: "owner", result: "done" });
  expect(await owner.proc.exited).toBe(0);

  // A run of host A whose pid is not alive on host B: B must not tear "its" bottle down and end the run
  // (host A's owner may be running fine); the stop is queued for A.
  const db = connectLedger({ path: url });
  const dead = Bun.spawn(["true"]);
  await dead.exited;
  await registerRun(db, { id: "far-dead-here", agent: "a", pid: dead.pid, host: "host-a" });
  process.env.BOTTLE_HOST_NAME = "host-b";
  try {
    await expect(stopRun(db, "far-dead-here", { timeoutMs: 300 })).rejects.toThrow(/did not act on `stop` in time/);
    expect(await db.selectFrom("runs").select(["state"]).where("id", "=", "far-dead-here").executeTakeFirst()).toEqual({ state: "running" });
  } finally {
    if (saved === undefined) delete process.env.BOTTLE_HOST_NAME;
    else process.env.BOTTLE_HOST_NAME = saved;
    await db.destroy();
  }
});
