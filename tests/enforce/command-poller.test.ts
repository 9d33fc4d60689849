/**
 * Control through the ledger: another connection (as `bottle budget cutoff` or the dashboard would) writes a
 * command; the run's poller carries it out and marks it done. A real child process stands in for the bottle.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { admit, type RunBudgetPlan } from "../../src/enforce/admission.ts";
import { startCommandPoller } from "../../src/enforce/command-poller.ts";
import type { CommandQueue } from "../../src/enforce/store.ts";
import { applyCommand } from "../../src/enforce/cutoff.ts";
import { ProcessRunControl } from "../../src/enforce/run-control.ts";
import { sqlCommandQueue, sqlCommandSender, sqlEnforceStore } from "../../src/enforce/sql-store.ts";
import { sendControl } from "../../src/enforce/control.ts";
import { addRun, ledgerFile, openTestLedger } from "../support/enforce-db.ts";

let child: ChildProcess | undefined;
const stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
  if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGKILL");
  child = undefined;
});

const procState = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  return s.slice(s.lastIndexOf(")") + 2).split(" ")[0];
};

async function until<T>(f: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await Bun.sleep(10);
  }
  throw new Error("condition never held");
}

describe("commands written to the ledger are carried out by the run", () => {
  test("cutoff then restore: admission follows, each command is marked done, actions are recorded", async () => {
    const file = ledgerFile();
    const runSide = openTestLedger(file);
    const cliSide = openTestLedger(file);
    await addRun(runSide, { id: "live", agent: "a", pid: process.pid });
    const store = sqlEnforceStore(runSide);
    stops.push(startCommandPoller(store, sqlCommandQueue(runSide), "live"));
    const plan: RunBudgetPlan = { runId: "live", timeZone: "UTC", preflight: "off", budgets: {} };

    const send = async (command: string) => {
      const r = await cliSide.insertInto("commands").values({ run_id: "live", command, created_at: Date.now(), done_at: null, result: null } as never).returning("id").executeTakeFirstOrThrow();
      return until(async () => {
        const row = await cliSide.selectFrom("commands").select(["done_at", "result"]).where("id", "=", (r as { id: number }).id).executeTakeFirst();
        return row?.done_at ? row.result : undefined;
      });
    };
    expect(await send("cutoff")).toBe("done");
    expect(await admit(store, plan, { provider: "claude" })).toMatchObject({ allow: false, kind: "cutoff" });
    expect(await send("cutoff")).toBe("no change");
    expect(await send("restore")).toBe("done");
    expect((await admit(store, plan, { provider: "claude" })).allow).toBe(true);
    expect(await send("explode")).toBe('error: unknown command "explode"');
    const kinds = await cliSide.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", "live").orderBy(sql`id`).execute();
    expect(kinds).toEqual([{ kind: "cutoff", trigger: "user" }, { kind: "restore", trigger: "user" }]);
    await runSide.destroy();
    await cliSide.destroy();
  });

  test("freeze stops the stand-in bottle process through RunControl", async () => {
    const file = ledgerFile();
    const db = openTestLedger(file);
    child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    const pid = child.pid!;
    await addRun(db, { id: "frozen", agent: "a", pid });
    stops.push(startCommandPoller(sqlEnforceStore(db), sqlCommandQueue(db), "frozen", new ProcessRunControl(() => pid)));
    await db.insertInto("commands").values({ run_id: "frozen", command: "freeze", created_at: Date.now(), done_at: null, result: null } as never).execute();
    await until(() => (procState(pid) === "T" ? true : undefined));
    const action = await until(() => db.selectFrom("enforcement_actions").selectAll().where("run_id", "=", "frozen").executeTakeFirst());
    expect(action).toMatchObject({ kind: "freeze", trigger: "user" });
    await db.destroy();
  });

  test("a user escalates by hand: cut off, then freeze, then kill each act; a repeat changes nothing", async () => {
    const file = ledgerFile();
    const db = openTestLedger(file);
    child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    const pid = child.pid!;
    const exited = new Promise((r) => child!.once("exit", r));
    await addRun(db, { id: "esc", agent: "a", pid });
    const store = sqlEnforceStore(db);
    const control = new ProcessRunControl(() => pid);
    // Not by a budget: a budget crossing after a cutoff is already enforced and acts once.
    expect(await applyCommand(store, control, "esc", "cutoff")).toMatchObject({ kind: "cutoff" });
    expect(await applyCommand(store, control, "esc", "freeze", "budget")).toBeUndefined();
    expect(await applyCommand(store, control, "esc", "freeze")).toMatchObject({ kind: "freeze", trigger: "user" });
    await until(() => (procState(pid) === "T" ? true : undefined));
    expect(await applyCommand(store, control, "esc", "freeze")).toBeUndefined();
    expect(await applyCommand(store, control, "esc", "kill")).toMatchObject({ kind: "kill", trigger: "user" });
    await exited;
    expect(child.signalCode).toBe("SIGKILL");
    expect(await applyCommand(store, control, "esc", "kill")).toBeUndefined();
    expect(await applyCommand(store, control, "esc", "freeze")).toBeUndefined();
    const kinds = await db.selectFrom("enforcement_actions").select("kind").where("run_id", "=", "esc").orderBy(sql`id`).execute();
    expect(kinds.map((k) => k.kind)).toEqual(["cutoff", "freeze", "kill"]);
    await db.destroy();
  });
});

describe("sendControl", () => {
  test("waits for the live run to act and reports the outcome; unknown or dead runs are errors", async () => {
    const file = ledgerFile();
    const runSide = openTestLedger(file);
    const cliSide = openTestLedger(file);
    await addRun(runSide, { id: "target", agent: "a", pid: process.pid });
    stops.push(startCommandPoller(sqlEnforceStore(runSide), sqlCommandQueue(runSide), "target"));
    const sender = sqlCommandSender(cliSide);
    expect(await sendControl(sender, "target", "cutoff")).toEqual({ runId: "target", command: "cutoff", result: "done" });
    expect(await sendControl(sender, "target", "restore")).toEqual({ runId: "target", command: "restore", result: "done" });
    await expect(sendControl(sender, "nobody", "cutoff")).rejects.toThrow(/not in the ledger/);
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    await addRun(runSide, { id: "gone", agent: "a", pid: dead.pid });
    await expect(sendControl(sender, "gone", "cutoff")).rejects.toThrow(/is not live/);
    await runSide.destroy();
    await cliSide.destroy();
  });
});

describe("a change event that comes before its commit is visible", () => {
  test("the command is still carried out, without waiting for the fallback poll", async () => {
    const file = ledgerFile();
    const runSide = openTestLedger(file);
    const cliSide = openTestLedger(file);
    await addRun(runSide, { id: "late", agent: "a", pid: process.pid });
    // The real queue on a real ledger file; only the change events are the test's: the event a commit's
    // first WAL write raises can reach the run before the commit is visible, and none follows it.
    const real = sqlCommandQueue(runSide);
    let fire: (() => void) | undefined;
    let polls = 0;
    const queue: CommandQueue = {
      ...real,
      changed: async () => {
        polls++;
        return real.changed!();
      },
      watch: (onChange) => {
        fire = onChange;
        return () => (fire = undefined);
      },
    };
    // An hour between fallback polls: only what the events set off can find the command.
    const stop = startCommandPoller(sqlEnforceStore(runSide), queue, "late", undefined, 3_600_000);
    stops.push(() => void stop());
    fire!();
    await until(() => (polls >= 1 ? true : undefined)); // the poll the event set off has looked, and found nothing
    const r = await cliSide.insertInto("commands").values({ run_id: "late", command: "cutoff", created_at: Date.now(), done_at: null, result: null } as never).returning("id").executeTakeFirstOrThrow();
    const result = await until(async () => {
      const row = await cliSide.selectFrom("commands").select(["done_at", "result"]).where("id", "=", (r as { id: number }).id).executeTakeFirst();
      return row?.done_at ? row.result : undefined;
    });
    expect(result).toBe("done");
    expect(await cliSide.selectFrom("enforcement_actions").select(["kind", "trigger"]).where("run_id", "=", "late").execute()).toEqual([{ kind: "cutoff", trigger: "user" }]);
  }, 60_000);
});
