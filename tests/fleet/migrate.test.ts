/**
 * `bottle ledger migrate --to postgres://…` on a real cluster, through the real CLI: a host's SQLite ledger
 * (runs, usage, a reservation, an action, a command, a reset, audit rows) is copied into a fleet ledger that
 * already holds another host's run and a running total. Copied twice, nothing is doubled; after more usage
 * on the SQLite ledger, a third copy adds only the new rows and closes the run that ended meanwhile. The
 * fleet ledger's totals check clean, and `bottle budget usage` reads the same numbers from both ledgers.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { sql } from "kysely";
import { endRun, openLedger, readTotal, recordUsage, registerRun, type LedgerDb, type UsageEvent } from "../../src/ledger/index.ts";
import { freshHome, runCli, runCliJson } from "../support/cli.ts";
import { freshPgLedger } from "../support/postgres.ts";

setDefaultTimeout(120_000);

const T0 = Date.UTC(2026, 10, 20, 9, 30);
const ev = (runId: string, agent: string, at: number, totalTokens: number, model = "claude-sonnet-4-5"): UsageEvent => ({
  runId,
  agent,
  bottles: ["web"],
  chain: ["web"],
  provider: "claude",
  model,
  at,
  inputTokens: totalTokens - 10,
  outputTokens: 10,
  totalTokens,
});

async function count(db: LedgerDb, table: string): Promise<number> {
  return Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0]!.n);
}

type Migrated = { source: string; copied: Record<"runs" | "usage_events" | "reservations" | "enforcement_actions" | "commands" | "budget_resets" | "egress_audit", number>; closed: { runs: number; reservations: number } };

test("a host's SQLite ledger is copied once, then only what is new; totals and usage reports agree", async () => {
  // A password in the URL (the loopback test cluster trusts it): no output may show it.
  const withPw = new URL(freshPgLedger());
  withPw.password = "migr8pw";
  const url = withPw.toString();
  const home = freshHome();
  const host = { home, env: { BOTTLE_HOST_NAME: "laptop-1" } };

  // The host's own ledger, written through the repository as bottle writes it.
  const lite = await openLedger({ path: join(home, "bottle.db") });
  await registerRun(lite, { id: "old-run", agent: "coder", bottles: ["web"], chain: ["web"], provider: "claude", pid: 1 });
  await registerRun(lite, { id: "live-run", agent: "coder", bottles: ["web"], chain: ["web"], provider: "claude", pid: 2, host: "laptop-1" });
  // A row from before runs recorded their host: the copy names this host.
  await lite.updateTable("runs").set({ host: null }).where("id", "=", "old-run").execute();
  await recordUsage(lite, [ev("old-run", "coder", T0, 1000), ev("old-run", "coder", T0 + 1, 2000), ev("live-run", "coder", T0 + 2, 300)]);
  await endRun(lite, "old-run", { at: T0 + 10, exitCode: 0 });
  await lite.insertInto("reservations").values({ id: "res-1", run_id: "live-run", provider: "claude", tokens: 500, created_at: T0 + 3, released_at: null, settled_tokens: null }).execute();
  await lite.insertInto("enforcement_actions").values({ run_id: "old-run", kind: "cutoff", trigger: "user", scope: null, provider: null, used: null, limit_tokens: null, detail: null, created_at: T0 + 4 }).execute();
  await lite.insertInto("commands").values({ run_id: "old-run", command: "cutoff", created_at: T0 + 4, done_at: T0 + 5, result: "done" }).execute();
  await lite.insertInto("budget_resets").values({ scope: "agent", scope_key: "nobody", provider: null, created_at: T0 - 1 }).execute();
  await lite.insertInto("egress_audit").values({ run_id: "old-run", created_at: T0, host: "api.anthropic.com", method: "POST", path: "/v1/messages", status: 200, decision: "mitm", reason: null, bytes_up: 10, bytes_down: 20, duration_ms: 5 }).execute();

  // The fleet ledger already holds another host's run, and a running total built before the copy.
  const pg = await openLedger({ path: url });
  try {
    await registerRun(pg, { id: "ci-run", agent: "ci", bottles: ["web"], chain: ["web"], provider: "claude", host: "ci-1" });
    await recordUsage(pg, [ev("ci-run", "ci", T0, 50, "ci-model")]);
    expect(await readTotal(pg, { scope: "global", key: "", provider: "claude", since: 0 })).toBe(50);

    const first = await runCliJson<Migrated>(["ledger", "migrate", "--to", url], host);
    expect(first.copied).toEqual({ runs: 2, usage_events: 3, reservations: 1, enforcement_actions: 1, commands: 1, budget_resets: 1, egress_audit: 1 });
    expect(first.source).toStartWith("laptop-1:");
    expect(JSON.stringify(first)).not.toContain("migr8pw");
    // The total admission reads now includes the copied usage (it was dropped and is rebuilt).
    expect(await readTotal(pg, { scope: "global", key: "", provider: "claude", since: 0 })).toBe(3350);
    expect(await pg.selectFrom("runs").select(["id", "host", "state"]).orderBy("id").execute()).toEqual([
      { id: "ci-run", host: "ci-1", state: "running" },
      { id: "live-run", host: "laptop-1", state: "running" },
      { id: "old-run", host: "laptop-1", state: "ended" },
    ]);

    // Again: nothing is added twice.
    const second = await runCliJson<Migrated>(["ledger", "migrate", "--to", url], host);
    expect(Object.values(second.copied)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(second.closed).toEqual({ runs: 0, reservations: 0 });
    // The same, as people read it: every table named with what it added, the password never shown.
    const human = await runCli(["ledger", "migrate", "--to", url], host);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(`copied ${join(home, "bottle.db")} into postgres://`);
    expect(human.stderr + human.stdout).not.toContain("migr8pw");
    for (const t of ["runs", "usage_events", "reservations", "enforcement_actions", "commands", "budget_resets", "egress_audit"]) expect(human.stderr).toMatch(new RegExp(`\\s${t}\\s+0\\n`));
    for (const [t, n] of Object.entries({ runs: 3, usage_events: 4, reservations: 1, enforcement_actions: 1, commands: 1, budget_resets: 1, egress_audit: 1 })) {
      expect([t, await count(pg, t)]).toEqual([t, n]);
    }

    // More usage on the host, the live run ends and its reservation settles: a third copy adds only that.
    await recordUsage(lite, [ev("live-run", "coder", T0 + 20, 700, "claude-opus-4-1")]);
    await lite.updateTable("reservations").set({ released_at: T0 + 20, settled_tokens: 700 }).where("id", "=", "res-1").execute();
    await endRun(lite, "live-run", { at: T0 + 30, exitCode: 0 });
    const third = await runCliJson<Migrated>(["ledger", "migrate", "--to", url], host);
    expect(third.copied).toEqual({ runs: 0, usage_events: 1, reservations: 0, enforcement_actions: 0, commands: 0, budget_resets: 0, egress_audit: 0 });
    expect(third.closed).toEqual({ runs: 1, reservations: 1 });
    expect(await count(pg, "usage_events")).toBe(5);
    expect(Number((await sql<{ s: number }>`select sum(total_tokens) as s from usage_events where run_id <> 'ci-run'`.execute(pg)).rows[0]!.s)).toBe(4000);
    expect(await pg.selectFrom("reservations").select(["released_at", "settled_tokens"]).where("id", "=", "res-1").executeTakeFirstOrThrow()).toEqual({ released_at: T0 + 20, settled_tokens: 700 });
    expect(await readTotal(pg, { scope: "global", key: "", provider: "claude", since: 0 })).toBe(4050);

    // The same file copied under another host name is another source (its watermarks start over), but
    // what budgets count is not added again: usage rows are guarded by their run and their own id.
    const renamed = await runCliJson<Migrated>(["ledger", "migrate", "--to", url], { home, env: { BOTTLE_HOST_NAME: "laptop-renamed" } });
    expect(renamed.source).toStartWith("laptop-renamed:");
    expect(renamed.copied.usage_events).toBe(0);
    expect(renamed.copied.runs).toBe(0);
    expect(renamed.copied.reservations).toBe(0);
    expect(await count(pg, "usage_events")).toBe(5);
    expect(await readTotal(pg, { scope: "global", key: "", provider: "claude", since: 0 })).toBe(4050);
  } finally {
    await pg.destroy();
    await lite.destroy();
  }

  // The fleet ledger's totals check clean.
  const check = await runCliJson<{ mismatches: unknown[] }>(["ledger", "check"], { home, env: { BOTTLE_LEDGER_URL: url } });
  expect(check.mismatches).toEqual([]);

  // `bottle budget usage` reads the same numbers from both ledgers (the fleet one limited to this host's runs).
  for (const by of ["run", "model", "agent"]) {
    const onLite = await runCli(["budget", "usage", "--by", by, "--until", new Date(T0 + 60_000).toISOString()], host);
    const onFleet = await runCli(["budget", "usage", "--by", by, "--until", new Date(T0 + 60_000).toISOString()], { home, env: { BOTTLE_LEDGER_URL: url } });
    expect(onLite.code).toBe(0);
    expect(onFleet.code).toBe(0);
    const mine = (out: string) => out.split("\n").filter((l) => !/^(ci|TOTAL)/.test(l));
    expect(mine(onFleet.stdout)).toEqual(mine(onLite.stdout));
  }
  const liteJson = await runCliJson<{ total: { totalTokens: number; requests: number } }>(["budget", "usage", "--run", "old-run"], host);
  const fleetJson = await runCliJson<{ total: { totalTokens: number; requests: number } }>(["budget", "usage", "--run", "old-run"], { home, env: { BOTTLE_LEDGER_URL: url } });
  expect(fleetJson.total).toEqual(liteJson.total);
  expect(liteJson.total.totalTokens).toBe(3000);
});

test("migrate refuses without a fleet URL, or with no SQLite ledger to copy, naming the fix", async () => {
  const home = freshHome();
  const noTo = await runCli(["ledger", "migrate"], { home });
  expect(noTo.code).not.toBe(0);
  expect(noTo.stderr).toContain("needs --to");
  const notPg = await runCli(["ledger", "migrate", "--to", "/tmp/x.db"], { home });
  expect(notPg.stderr).toContain("is not a PostgreSQL URL");
  const none = await runCli(["ledger", "migrate", "--to", "postgres://nobody@127.0.0.1:1/x"], { home });
  expect(none.code).not.toBe(0);
  expect(none.stderr).toContain(`there is no SQLite ledger at ${join(home, "bottle.db")}`);
});

test("two copies of the same ledger at once add every row once between them", async () => {
  const url = freshPgLedger();
  const home = freshHome();
  const lite = await openLedger({ path: join(home, "bottle.db") });
  try {
    await registerRun(lite, { id: "busy-run", agent: "coder", bottles: ["web"], chain: ["web"], provider: "claude", pid: 1, host: "laptop-1" });
    // More than two batches of 1,000, so the two copies meet mid-table.
    await recordUsage(lite, Array.from({ length: 2500 }, (_, i) => ev("busy-run", "coder", T0 + i, 10)));
  } finally {
    await lite.destroy();
  }
  const o = { home, env: { BOTTLE_HOST_NAME: "laptop-1" } };
  const [a, b] = await Promise.all([runCliJson<Migrated>(["ledger", "migrate", "--to", url], o), runCliJson<Migrated>(["ledger", "migrate", "--to", url], o)]);
  expect(a.copied.usage_events + b.copied.usage_events).toBe(2500);
  expect(a.copied.runs + b.copied.runs).toBe(1);
  const pg = await openLedger({ path: url });
  try {
    expect(await count(pg, "usage_events")).toBe(2500);
    expect(await readTotal(pg, { scope: "global", key: "", provider: "claude", since: 0 })).toBe(25_000);
  } finally {
    await pg.destroy();
  }
});
