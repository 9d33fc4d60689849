/**
 * `bottle ledger check` on a fleet ledger: the integrity check (the server answers) and every running total
 * against its sum, through the real CLI. The ledger is named in its output with the password hidden.
 */
import { expect, test } from "bun:test";
import { runCli, freshHome } from "../support/cli.ts";
import { freshPgLedger } from "../support/postgres.ts";

test("ledger check on a Postgres ledger passes and never prints the URL's password", async () => {
  const u = new URL(freshPgLedger());
  u.password = "s3cret-in-url"; // the test cluster trusts loopback, so any password connects
  const env = { BOTTLE_LEDGER_URL: u.toString() };
  const r = await runCli(["ledger", "check", "--json"], { home: freshHome(), env });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ integrity: "ok", totals: 0, mismatches: [], repaired: false });
  expect(JSON.parse(r.stdout).file).toContain(":***@");
  const human = await runCli(["ledger", "check"], { home: freshHome(), env });
  expect(human.code).toBe(0);
  expect(`${human.stdout}${human.stderr}${r.stdout}${r.stderr}`).not.toContain("s3cret-in-url");
});
