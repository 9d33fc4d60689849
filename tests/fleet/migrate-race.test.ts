/**
 * Hosts that start at the same moment against a brand-new fleet ledger: each migrates before its first
 * query, kysely's Migrator holds a Postgres advisory lock for the run, so exactly one creates the schema and
 * the others find it done. Every process opens cleanly and writes its run.
 */
import { expect, test } from "bun:test";
import { sql } from "kysely";
import { connectLedger } from "../../src/ledger/index.ts";
import { freshPgLedger } from "../support/postgres.ts";

const OPENER = `
import { openLedger, registerRun } from "./src/ledger/index.ts";
const db = await openLedger({ path: process.argv[1] });
await registerRun(db, { id: "run-" + process.argv[2], agent: "a", pid: process.pid });
await db.destroy();
console.log("ok");
`;

test("six hosts opening a new Postgres ledger at once: one migration, six runs, no error", async () => {
  const url = freshPgLedger();
  const procs = Array.from({ length: 6 }, (_, i) =>
    Bun.spawn(["bun", "-e", OPENER, url, String(i)], { cwd: `${import.meta.dir}/../..`, stdout: "pipe", stderr: "pipe" }),
  );
  const outs = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: (await new Response(p.stdout).text()).trim(), err: await new Response(p.stderr).text() })));
  expect(outs.map((o) => [o.code, o.out, o.err])).toEqual(outs.map(() => [0, "ok", ""]));
  const db = connectLedger({ path: url });
  try {
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    expect(applied.rows.map((r) => r.name)).toEqual(["0001-fleet-schema"]);
    expect((await db.selectFrom("runs").select("id").orderBy("id").execute()).map((r) => r.id)).toEqual(["run-0", "run-1", "run-2", "run-3", "run-4", "run-5"]);
  } finally {
    await db.destroy();
  }
});
