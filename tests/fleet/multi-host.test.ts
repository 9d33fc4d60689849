/**
 * One global budget across a fleet: four processes stand in for four hosts (each its own BOTTLE_HOME and
 * host name) sharing one Postgres ledger. 50 metered requests are in flight at the budget's edge, all at
 * once, and the ledger's total stays within the bounds docs/budgets.md proves for one host: the advisory
 * lock serialises admission across hosts exactly as SQLite's write lock does across processes. Each run
 * records its host, and the running totals equal the sums afterwards.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { checkTotals } from "../../src/ledger/index.ts";
import { freshPgLedger } from "../support/postgres.ts";
import { openTestLedger } from "../support/enforce-db.ts";

const HOSTS = ["ci-runner-1", "ci-runner-2", "laptop-ana", "laptop-bo"];
const LIMIT = 1000;
const USAGE = 100;
const N = 50;

async function fleet(mode: "off" | "estimate", inflightEach: number) {
  const url = freshPgLedger();
  const per = [13, 13, 12, 12];
  const procs = HOSTS.map((host, i) =>
    Bun.spawn(["bun", join(import.meta.dir, "../support/fleet-host.ts"), url, `run-${host}`, String(per[i]), String(LIMIT), String(USAGE), mode, String(USAGE), String(inflightEach)], {
      env: { ...process.env, BOTTLE_HOME: mkdtempSync(join(process.env.TMPDIR!, `home-${host}-`)), BOTTLE_HOST_NAME: host },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  try {
    const readers = procs.map((p) => p.stdout.getReader());
    const bufs = procs.map(() => ({ s: "" }));
    const readLine = async (i: number) => {
      const b = bufs[i]!;
      while (!b.s.includes("\n")) {
        const { value, done } = await readers[i]!.read();
        if (done) throw new Error(`host ${HOSTS[i]} ended early`);
        b.s += new TextDecoder().decode(value);
      }
      const at = b.s.indexOf("\n");
      const line = b.s.slice(0, at);
      b.s = b.s.slice(at + 1);
      return line;
    };
    expect(await Promise.all(procs.map((_, i) => readLine(i)))).toEqual(["ready", "ready", "ready", "ready"]);
    for (const p of procs) {
      p.stdin.write("go\n");
      p.stdin.end();
    }
    const results = await Promise.all(procs.map(async (_, i) => JSON.parse(await readLine(i)) as { admitted: number; maxInFlight: number }));
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0]);
    const db = openTestLedger(url);
    try {
      const runs = await db.selectFrom("runs").select(["id", "host"]).orderBy("id").execute();
      const charged = await db.selectFrom("usage_events").select((eb) => eb.fn.sum<number>("total_tokens").as("n")).executeTakeFirstOrThrow();
      const totals = await checkTotals(db as never);
      return {
        admitted: results.reduce((a, r) => a + r.admitted, 0),
        inFlight: results.reduce((a, r) => a + r.maxInFlight, 0),
        charged: Number(charged.n ?? 0),
        runs,
        totals,
      };
    } finally {
      await db.destroy();
    }
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  }
}

describe("four hosts, one Postgres ledger, one global budget (50 requests at the edge)", () => {
  test("estimate: exactly the 10 that fit run, across all hosts, and the total never passes the limit", async () => {
    const r = await fleet("estimate", 13);
    expect(r.inFlight).toBe(N);
    expect(r.admitted).toBe(LIMIT / USAGE);
    expect(r.charged).toBeLessThanOrEqual(LIMIT);
    expect(r.runs).toEqual(HOSTS.map((h) => ({ id: `run-${h}`, host: h })).sort((a, b) => a.id.localeCompare(b.id)));
    expect(r.totals.mismatches).toEqual([]);
    expect(r.totals.rows).toBeGreaterThan(0);
  });

  test("off (post-hoc): admitted <= floor((L-1)/u) + C for the C in flight across hosts", async () => {
    const r = await fleet("off", 13);
    expect(r.admitted).toBeGreaterThanOrEqual(LIMIT / USAGE);
    expect(r.admitted).toBeLessThanOrEqual(Math.floor((LIMIT - 1) / USAGE) + r.inFlight);
    expect(r.charged).toBe(r.admitted * USAGE);
    expect(r.totals.mismatches).toEqual([]);
  });

  test("off, 2 in flight per host: at most 9 + 8 = 17 of the 50 run", async () => {
    const r = await fleet("off", 2);
    expect(r.inFlight).toBeLessThanOrEqual(8);
    expect(r.admitted).toBeLessThanOrEqual(17);
    expect(r.charged).toBe(r.admitted * USAGE);
  });
});
