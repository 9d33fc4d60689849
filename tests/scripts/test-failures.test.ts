/**
 * The failure summary that scripts/test.sh prints after a failed pass: a real `bun test` run of a file with
 * one passing and one failing test writes its JUnit report, and the summary names only the failing test
 * with its whole message (the multi-line screen a terminal test attaches), unescaped.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../helpers/bottles.ts";

test("a failed run's failures are printed with their messages, and passing tests are not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "failures-"));
  writeFileSync(
    join(dir, "sample.test.ts"),
    [
      'import { expect, test } from "bun:test";',
      'test("adds up", () => expect(1 + 1).toBe(2));',
      'test("draws the <prompt> & \\"quotes\\"", () => { throw new Error("terminal never showed X; the screen was:\\n❯ line one\\n  line two"); });',
    ].join("\n"),
  );
  const report = join(dir, "report.xml");
  const run = Bun.spawn(["bun", "test", "--reporter=junit", `--reporter-outfile=${report}`, "sample.test.ts"], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env } });
  expect(await run.exited).toBe(1);
  const summary = Bun.spawnSync(["bun", join(REPO, "scripts/test-failures.ts"), report], { stdout: "pipe", stderr: "pipe" });
  const out = summary.stdout.toString();
  expect(out).toContain('✗ sample.test.ts:3 draws the <prompt> & "quotes"');
  expect(out).toContain("terminal never showed X; the screen was:\n    ❯ line one\n      line two");
  expect(out).not.toContain("adds up");
  expect(out).toContain("1 failing test");
}, 60_000);

test("no report (the run died before writing it) is said, not an error", () => {
  const r = Bun.spawnSync(["bun", join(REPO, "scripts/test-failures.ts"), "/nonexistent/report.xml"], { stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  expect(r.stderr.toString()).toContain("no report at /nonexistent/report.xml");
});
