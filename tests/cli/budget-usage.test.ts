/**
 * `bottle budget usage`, spawned as a user runs it (NO_COLOR, TZ=UTC, a temp BOTTLE_HOME) against a ledger
 * seeded through the repository: the table, --json and --csv agree with each other and with the ledger's
 * own sums; --since/--until take dates and spans; bad flags are usage errors.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { openLedger, recordUsage, registerRun, type UsageEvent } from "../../src/ledger/index.ts";

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
const home = mkdtempSync(join(process.env.TMPDIR!, "usage-home-"));
const T0 = Date.UTC(2026, 10, 20, 9, 30);
const DAY = 86_400_000;
let ledgerTotal = 0;

async function bottle(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(["bun", MAIN, "budget", "usage", ...args], { env: { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1", TZ: "UTC", COLUMNS: "120" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  const db = await openLedger({ path: join(home, "bottle.db") });
  await registerRun(db, { id: "run-a", agent: "coder", label: "fix-login", bottles: ["web", "node"], provider: "claude" });
  await registerRun(db, { id: "run-b", agent: "reviewer", bottles: ["web"], provider: "codex" });
  const ev = (runId: string, agent: string, bottles: string[], provider: string, model: string, at: number, t: Partial<UsageEvent>): UsageEvent => ({ runId, agent, bottles, provider, model, at, totalTokens: 0, ...t });
  await recordUsage(db, [
    ev("run-a", "coder", ["web", "node"], "claude", "claude-sonnet-4-5", T0, { inputTokens: 1200, outputTokens: 345, cacheCreationTokens: 100, cacheReadTokens: 800, totalTokens: 2445 }),
    ev("run-a", "coder", ["web", "node"], "claude", "claude-sonnet-4-5", T0 + DAY, { inputTokens: 30, outputTokens: 20, totalTokens: 50, estimated: true }),
    ev("run-b", "reviewer", ["web"], "codex", "gpt-5", T0 + 2 * DAY, { inputTokens: 1000, outputTokens: 200, cachedTokens: 600, reasoningTokens: 50, totalTokens: 1200 }),
  ]);
  ledgerTotal = Number((await sql<{ s: number }>`select sum(total_tokens) as s from usage_events`.execute(db)).rows[0]!.s);
  await db.destroy();
});

describe("bottle budget usage", () => {
  test("the default table groups by run and totals the ledger", async () => {
    const r = await bottle();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "RUN    LABEL      AGENT       REQUESTS  INPUT  OUTPUT  CACHE WRITE  CACHE READ  REASONING  TOTAL",
        "run-a  fix-login  coder     2 (1 est.)  1,230     365          100         800          0  2,495",
        "run-b  reviewer   reviewer           1  1,000     200            0         600         50  1,200",
        "TOTAL  2 runs               3 (1 est.)  2,230     565          100       1,400         50  3,695",
        "",
      ].join("\n"),
    );
  });

  test("--json: the report object, totals equal to the ledger's sum", async () => {
    const r = await bottle("--by", "bottle", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.groupBy).toBe("bottle");
    expect(j.rows.map((g: { key: string; runs: number; totalTokens: number }) => [g.key, g.runs, g.totalTokens])).toEqual([["web", 2, 3695], ["node", 1, 2495]]);
    expect(j.total.totalTokens).toBe(ledgerTotal);
    expect(j.total).toEqual({ runs: 2, requests: 3, countCalls: 0, unmeteredCalls: 0, estimated: 1, inputTokens: 2230, outputTokens: 565, cacheCreationTokens: 100, cacheReadTokens: 800, cachedTokens: 600, reasoningTokens: 50, totalTokens: 3695 });
  });

  test("--csv: one line per group, RFC 4180 line ends", async () => {
    const r = await bottle("--by", "provider", "--csv");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\r\n")).toEqual([
      "group_by,key,label,agent,runs,requests,count_calls,unmetered_calls,estimated,input_tokens,output_tokens,cache_creation_tokens,cache_read_tokens,cached_tokens,reasoning_tokens,total_tokens,first_at,last_at",
      `provider,claude,,,1,2,0,0,1,1230,365,100,800,0,0,2495,${new Date(T0).toISOString()},${new Date(T0 + DAY).toISOString()}`,
      `provider,codex,,,1,1,0,0,0,1000,200,0,0,600,50,1200,${new Date(T0 + 2 * DAY).toISOString()},${new Date(T0 + 2 * DAY).toISOString()}`,
      "",
    ]);
  });

  test("--since and --until take ISO dates (until inclusive) and date-times", async () => {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const r = await bottle("--by", "model", "--since", day(T0 + DAY), "--until", day(T0 + DAY), "--json");
    const j = JSON.parse(r.stdout);
    expect(j.rows.map((g: { key: string; totalTokens: number }) => [g.key, g.totalTokens])).toEqual([["claude-sonnet-4-5", 50]]);
    expect(j.since).toBe(`${day(T0 + DAY)}T00:00:00.000Z`);
    expect(j.until).toBe(`${day(T0 + 2 * DAY)}T00:00:00.000Z`);
    const exact = JSON.parse((await bottle("--by", "agent", "--since", new Date(T0 + 2 * DAY).toISOString(), "--json")).stdout);
    expect(exact.rows.map((g: { key: string }) => g.key)).toEqual(["reviewer"]);
  });

  test("a span back from now: everything seeded lies in the past", async () => {
    const j = JSON.parse((await bottle("--since", "1h", "--json")).stdout);
    expect(j.rows).toEqual([]);
    expect((await bottle("--since", "1h")).stdout).toBe("No usage recorded in this range.\n");
  });

  test("bad input is a usage error naming the flag", async () => {
    const by = await bottle("--by", "color");
    expect(by.code).toBe(2);
    expect(by.stderr).toContain("--by color is not a grouping");
    const since = await bottle("--since", "last tuesday");
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("--since last tuesday is not a date");
    const both = await bottle("--json", "--csv");
    expect(both.code).toBe(2);
  });
});

describe("settings.yml ledger:", () => {
  test("a ledger in a missing directory is one clear error; once the directory exists it is used", async () => {
    const other = mkdtempSync(join(process.env.TMPDIR!, "settings-home-"));
    await Bun.write(join(other, "settings.yml"), "ledger: data/usage.db\n");
    const run = async () => {
      const p = Bun.spawn(["bun", MAIN, "budget", "usage", "--json"], { env: { ...process.env, BOTTLE_HOME: other, NO_COLOR: "1", TZ: "UTC" }, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { stdout, stderr, code };
    };
    const missing = await run();
    const path = join(other, "data", "usage.db");
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(
      `error: ${path}: cannot open the ledger at ${path}: the directory ${join(other, "data")} does not exist — create it (mkdir -p ${join(other, "data")}), or set \`ledger:\` in settings.yml (or BOTTLE_HOME) to a writable location`,
    );
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(other, "data"));
    const db = await openLedger({ path });
    await registerRun(db, { id: "elsewhere", agent: "coder" });
    await recordUsage(db, [{ runId: "elsewhere", agent: "coder", provider: "claude", totalTokens: 9, at: T0 }]);
    await db.destroy();
    const ok = await run();
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).total.totalTokens).toBe(9);
  });
});
