/**
 * `bottle logs <run>` through the real CLI: a run's egress audit records from the home's ledger (and no
 * other run's), as JSON Lines and as aligned text in the configured zone; `--follow` prints records as a
 * live run (a real stand-in process) gets them and returns by itself once the run is over.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectLedger, recordAudit, registerRun, type LedgerDb } from "../../src/ledger/index.ts";
import type { AuditRecord } from "../../src/proxy/hooks.ts";
import type { AuditEntry } from "../../src/runs/logs.ts";
import { runCli, cliEnv, freshHome, MAIN } from "../support/cli.ts";
import { killStandins, startStandin } from "../support/standin.ts";

let home: string;
let db: LedgerDb;
const T0 = Date.parse("2026-11-18T09:30:00.250Z");
const rec = (runId: string, i: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  time: T0 + i * 1000,
  runId,
  host: "api.anthropic.com",
  method: "POST",
  path: "/v1/messages",
  status: 200,
  decision: "mitm",
  bytesUp: 1800,
  bytesDown: 5300,
  durationMs: 812,
  ...over,
});

beforeAll(async () => {
  home = freshHome();
  writeFileSync(join(home, "settings.yml"), "timezone: Asia/Tokyo\n");
  db = connectLedger({ path: join(home, "bottle.db") });
  await registerRun(db, { id: "audited", agent: "a", pid: null });
  await registerRun(db, { id: "other", agent: "a", pid: null });
  await recordAudit(db, [
    rec("audited", 0),
    rec("other", 1, { host: "elsewhere.example" }),
    rec("audited", 2, { host: "evil.example", method: "CONNECT", path: "", status: 403, decision: "deny", reason: "no route for evil.example", bytesUp: 0, bytesDown: 0, durationMs: 0 }),
  ]);
});
afterEach(killStandins);
afterAll(() => db.destroy());

const parseLines = (text: string) => text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);

describe("bottle logs", () => {
  test("--json: one object a line, this run's records only, oldest first", async () => {
    const r = await runCli(["logs", "audited", "--json"], { home });
    expect(r.code).toBe(0);
    const entries = parseLines(r.stdout);
    expect(entries.map(({ id: _id, ...e }) => e)).toEqual([
      { runId: "audited", time: "2026-11-18T09:30:00.250Z", host: "api.anthropic.com", method: "POST", path: "/v1/messages", status: 200, decision: "mitm", bytesUp: 1800, bytesDown: 5300, durationMs: 812 },
      { runId: "audited", time: "2026-11-18T09:30:02.250Z", host: "evil.example", method: "CONNECT", path: "", status: 403, decision: "deny", reason: "no route for evil.example", bytesUp: 0, bytesDown: 0, durationMs: 0 },
    ]);
  });

  test("text: a header, then aligned columns with the time in the configured zone", async () => {
    const r = await runCli(["logs", "audited"], { home });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^TIME\s+METHOD\s+STATUS\s+DECISION\s+UP\s+DOWN\s+TOOK\s+HOST\/PATH$/);
    expect(lines[1]).toMatch(/^2026-11-18T18:30:00\+09:00\s+POST\s+200\s+mitm\s+1\.8 kB\s+5\.2 kB\s+812 ms\s+api\.anthropic\.com\/v1\/messages$/);
    expect(lines[2]).toMatch(/^2026-11-18T18:30:02\+09:00\s+CONNECT\s+403\s+deny\s+0 B\s+0 B\s+0 ms\s+evil\.example {2}\(no route for evil\.example\)$/);
  });

  test("an unknown run is an error; a run with no records says so on stderr", async () => {
    const r = await runCli(["logs", "nobody"], { home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no run "nobody" in the ledger');
    await registerRun(db, { id: "quiet", agent: "a", pid: null });
    const q = await runCli(["logs", "quiet", "--json"], { home });
    expect(q).toMatchObject({ code: 0, stdout: "" });
    const t = await runCli(["logs", "quiet"], { home });
    expect(t.code).toBe(0);
    expect(t.stderr).toContain("no egress records for run quiet");
  });

  test("--follow prints records as a live run gets them and returns once the run is over", async () => {
    const s = await startStandin(join(home, "bottle.db"), "followed", "follower");
    await recordAudit(db, [rec("followed", 0)]);
    const p = Bun.spawn(["bun", MAIN, "logs", "followed", "--follow", "--json"], { env: cliEnv({ home }), cwd: home, stdout: "pipe", stderr: "pipe" });
    const reader = p.stdout.getReader();
    let text = "";
    const lines = async (n: number) => {
      while (text.split("\n").length - 1 < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`logs ended after ${text}`);
        text += new TextDecoder().decode(value);
      }
      return parseLines(text);
    };
    try {
      expect((await lines(1)).map((e) => e.time)).toEqual(["2026-11-18T09:30:00.250Z"]);
      await recordAudit(db, [rec("followed", 1, { status: 402, decision: "refuse", reason: "budget" })]);
      expect((await lines(2))[1]).toMatchObject({ status: 402, decision: "refuse", reason: "budget" });
      // The last record lands just before the run ends; it is still printed, then logs returns by itself.
      await recordAudit(db, [rec("followed", 2)]);
      process.kill(-s.bottlePid, "SIGKILL");
      expect(await s.proc.exited).toBe(0);
      expect(await p.exited).toBe(0);
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
      expect(parseLines(text).map((e) => e.time)).toEqual(["2026-11-18T09:30:00.250Z", "2026-11-18T09:30:01.250Z", "2026-11-18T09:30:02.250Z"]);
    } finally {
      if (p.exitCode === null) p.kill("SIGKILL");
    }
  });
});
