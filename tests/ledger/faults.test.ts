/**
 * Ledger fault tests on real files and real processes: four processes writing 1,000 events each (one
 * transaction per event) into one brand-new ledger finish with zero SQLITE_BUSY errors and exact sums; a
 * writer SIGKILLed in the middle of a transaction loses no committed row and leaves no part of the
 * interrupted one, and the ledger stays writable.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import type { FileSink, Subprocess } from "bun";
import { join } from "node:path";
import { openLedger, recordUsage } from "../../src/ledger/index.ts";
import { ledgerFile } from "../support/enforce-db.ts";
import { lineReader } from "../support/lines.ts";

const SUPPORT = join(import.meta.dir, "../support");
let procs: Subprocess[] = [];
afterEach(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  procs = [];
});

describe("four processes, 1,000 events each, one ledger", () => {
  test("zero SQLITE_BUSY, every row present, exact sums", async () => {
    const file = ledgerFile();
    const N = 1000;
    procs = [0, 1, 2, 3].map((i) => Bun.spawn(["bun", join(SUPPORT, "usage-writer.ts"), file, `w${i}`, String(N)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }));
    const lines = procs.map((p) => lineReader(p.stdout as ReadableStream<Uint8Array>));
    expect(await Promise.all(lines.map((l) => l()))).toEqual(["ready", "ready", "ready", "ready"]);
    for (const p of procs) {
      (p.stdin as FileSink).write("go\n");
      (p.stdin as FileSink).end();
    }
    const results = (await Promise.all(lines.map(async (l) => JSON.parse(await l())))) as { written: number; busy: number; errors: string[] }[];
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0]);
    expect(results).toEqual(Array(4).fill({ written: N, busy: 0, errors: [] }));

    const tri = (N * (N + 1)) / 2;
    const db = await openLedger({ path: file });
    const per = await db
      .selectFrom("usage_events")
      .select((eb) => ["run_id", eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("input_tokens").as("input"), eb.fn.sum<number>("output_tokens").as("output"), eb.fn.sum<number>("cache_read_tokens").as("cache"), eb.fn.sum<number>("total_tokens").as("total")])
      .groupBy("run_id")
      .orderBy("run_id")
      .execute();
    expect(per).toEqual([0, 1, 2, 3].map((i) => ({ run_id: `w${i}`, n: N, input: tri, output: 2 * tri, cache: 3 * tri, total: 6 * tri })));
    const runs = await db.selectFrom("runs").select("id").orderBy("id").execute();
    expect(runs.map((r) => r.id)).toEqual(["w0", "w1", "w2", "w3"]);
    await db.destroy();
  });
});

describe("a writer killed with SIGKILL mid-transaction", () => {
  test("no committed row is lost, no part of the open transaction appears, the ledger stays writable", async () => {
    const file = ledgerFile();
    const SIZE = 20;
    const p = Bun.spawn(["bun", join(SUPPORT, "slow-tx-writer.ts"), file, "victim", String(SIZE)], { stdout: "pipe", stderr: "inherit" });
    procs = [p];
    const line = lineReader(p.stdout as ReadableStream<Uint8Array>);
    let committed = 0;
    for (;;) {
      const l = await line();
      if (l.startsWith("commit ")) committed = Number(l.slice(7));
      if (l === "begin 4") break;
    }
    expect(committed).toBe(3);
    // Batch 4 is open: let it insert a few of its rows, then kill the writer inside the transaction.
    await Bun.sleep(25);
    p.kill("SIGKILL");
    expect(await p.exited).not.toBe(0);

    const db = await openLedger({ path: file });
    const batches = await db
      .selectFrom("usage_events")
      .select((eb) => ["request_id", eb.fn.countAll<number>().as("rows"), eb.fn.sum<number>("total_tokens").as("total")])
      .groupBy("request_id")
      .orderBy("request_id")
      .execute();
    const sumOf = (b: number) => SIZE * b + (SIZE * (SIZE - 1)) / 2;
    expect(batches).toEqual([1, 2, 3].map((b) => ({ request_id: `b${b}`, rows: SIZE, total: sumOf(b) })));
    const check = await db.selectFrom("usage_events").select((eb) => eb.fn.countAll<number>().as("n")).where((eb) => eb.or([eb("run_id", "is", null), eb("provider", "is", null)])).executeTakeFirstOrThrow();
    expect(Number(check.n)).toBe(0);
    // The dead writer's lock is gone: a new write goes through at once.
    await recordUsage(db, [{ runId: "victim", provider: "claude", requestId: "after", totalTokens: 7, at: Date.now() }]);
    expect((await db.selectFrom("usage_events").select("total_tokens").where("request_id", "=", "after").execute()).map((r) => r.total_tokens)).toEqual([7]);
    await db.destroy();
    const raw = new Database(file);
    expect(raw.query<{ integrity_check: string }, []>("pragma integrity_check").get()?.integrity_check).toBe("ok");
    raw.close();
  });
});
