/**
 * The provenance record of a real run, end to end, as CI produces it: `bottle run --headless` with the real
 * Claude Code and Codex CLIs in sandbox bottles, against the simulator, under a budget that cuts them off,
 * with `--report` and GITHUB_STEP_SUMMARY set. The record must list exactly the hosts and denials the
 * ledger's audit log holds and exactly the usage its usage rows hold; it must verify (CLI), and changing
 * any one of its bytes must make verification fail; the step summary is the record's markdown, and that
 * markdown matches a golden file once run-specific values are normalised.
 *
 * The Claude run's tool call also commits a change and plants git configuration that would run a program
 * on the host (core.fsmonitor, a clean filter) — the attack on whoever reads the workspace's git state
 * afterwards. The record's workspace section must see the commit and the change while nothing planted
 * runs.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import type { LedgerDb } from "../../src/ledger/index.ts";
import { checkRecordText, hostTrust, recordMarkdown, type SignedRecord } from "../../src/provenance/index.ts";
import { canonicalHash } from "../../src/provenance/canonical.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshHome, runCli } from "../support/cli.ts";
import { gitWorkspace, normaliseMarkdown, runRows } from "./helpers.ts";

setDefaultTimeout(180_000);
const GOLDEN = join(import.meta.dir, "golden", "claude-summary.md");
const dbs: LedgerDb[] = [];
let sim: Simulator;
let markers: string;

beforeAll(() => {
  for (const b of ["claude", "codex"]) if (!existsSync(join(AGENTS_BIN, b))) throw new Error(`${b} is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
  // Outside every bottle's writable paths: only a program run on the host can create files here.
  markers = mkdtempSync(join(process.env.TMPDIR!, "planted-"));
  const plant = [
    "echo step >> steps.txt",
    "git add steps.txt",
    "git -c user.name=agent -c user.email=agent@example.com commit -qm 'a step'",
    `git config core.fsmonitor 'touch ${markers}/fsmonitor-ran'`,
    `git config filter.evil.clean 'touch ${markers}/filter-ran; cat'`,
    "echo '* filter=evil' > .gitattributes",
  ].join("; ");
  sim = startSimulator({ text: "Recording a step.", toolUse: { name: "Bash", input: { command: plant, description: "record a step" } } });
});
afterAll(async () => {
  for (const db of dbs) await db.destroy();
  await sim?.close();
});

function recordOf(path: string): SignedRecord {
  return JSON.parse(readFileSync(path, "utf8")) as SignedRecord;
}

/** Every single-byte change of the file fails verification (checked in-process: thousands of variants). */
function everyByteMatters(text: string, home: string): void {
  const trusted = hostTrust(home);
  expect(checkRecordText(text, trusted).ok).toBe(true);
  const bytes = Buffer.from(text, "utf8");
  const passed: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const changed = Buffer.from(bytes);
    changed[i] = changed[i]! ^ 0x01;
    if (checkRecordText(changed.toString("utf8"), trusted).ok) passed.push(i);
  }
  expect(passed).toEqual([]);
}

async function expectMatchesLedger(home: string, s: SignedRecord): Promise<void> {
  const rows = await runRows(home, s.record.run.id);
  dbs.push(rows.db);
  const r = s.record;
  expect(r.egress.hosts.map((h) => h.host)).toEqual(rows.hosts);
  const denials = r.egress.denials.flatMap((d) => Array(d.count).fill({ host: d.host, method: d.method, path: d.path, decision: d.decision, status: d.status, reason: d.reason }));
  const key = (d: object) => JSON.stringify(d);
  expect(denials.map(key).sort()).toEqual(rows.denials.map(key).sort());
  expect(rows.denials.length).toBeGreaterThan(0);
  const models = new Map(r.models.map((m) => [`${m.provider}/${m.model}`, { requests: m.requests, input: m.inputTokens, output: m.outputTokens, total: m.totalTokens }]));
  expect(models).toEqual(rows.usageByModel);
  expect(r.usage.totalTokens).toBe([...rows.usageByModel.values()].reduce((n, m) => n + m.total, 0));
  expect(r.enforcement.map((a) => `${a.kind}/${a.trigger}`)).toEqual(rows.actions);
  expect(rows.actions).toContain("cutoff/budget");
}

test("claude: the record of a budget cut-off run matches the ledger, verifies, and no byte can change; the step summary is its markdown", async () => {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "bottles", "audited.md"), `---\negress:\n  routes:\n    - host: api.anthropic.com\n      upstream: ${sim.url}\n  log: full\n---\n`);
  const ws = gitWorkspace();
  const out = mkdtempSync(join(process.env.TMPDIR!, "ci-"));
  const summary = join(out, "step-summary.md");
  writeFileSync(summary, "## earlier step\n\n");
  const r = await runCli(["run", "claude", "--headless", "--prompt", "Record steps until told to stop.", "--bottle", "audited", "--backend", "sandbox", "--budget", "50", "--report", join(out, "provenance.json"), "--trailer"], {
    home,
    cwd: ws,
    env: { PATH: `${AGENTS_BIN}:${process.env.PATH}`, GITHUB_STEP_SUMMARY: summary },
    timeoutMs: 150_000,
  });
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(EXIT_BUDGET_STOPPED);
  const runId = /bottle resume (\S+)/.exec(r.stderr)![1]!;

  // --report is the same file as the run's own record.
  const own = join(home, "runs", runId, "provenance.json");
  const text = readFileSync(join(out, "provenance.json"), "utf8");
  expect(text).toBe(readFileSync(own, "utf8"));
  const s = recordOf(own);
  expect(s.record.run).toMatchObject({ id: runId, label: "claude", state: "ended", exitCode: 1, stopReason: "budget", recordedBy: "run-end", host: hostname(), backend: "sandbox" });
  expect(s.record.agent).toMatchObject({ name: "claude", provider: "claude", source: "embedded", cli: { package: "@anthropic-ai/claude-code" } });
  expect(s.record.agent!.cli.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(s.record.prompt).toMatchObject({ text: "Record steps until told to stop.", included: true });
  expect(s.record.budgets.governing).toEqual([{ provider: "claude", tokens: 50, per: null, scope: "run", name: null, file: null }]);
  await expectMatchesLedger(home, s);

  // The workspace: the agent's commit and files are seen, and nothing it planted ran on the host.
  const g = s.record.workspace!.git!;
  expect(g.start.branch).toBe("main");
  expect(g.end!.commit).not.toBe(g.start.commit);
  expect(g.diff!.changes.map((c) => c.path)).toEqual([".gitattributes", "steps.txt"]);
  expect(g.diff!.changes.find((c) => c.path === "steps.txt")!.insertions).toBeGreaterThan(0);
  expect(existsSync(join(markers, "fsmonitor-ran"))).toBe(false);
  expect(existsSync(join(markers, "filter-ran"))).toBe(false);
  // --trailer: each commit the agent made names the run and the record; the tree is the one recorded.
  const log = spawnSync("git", ["log", "--format=%(trailers:key=Bottle-Run,valueonly,separator=)|%(trailers:key=Bottle-Record,valueonly,separator=)", `${g.start.commit}..HEAD`], { cwd: ws, encoding: "utf8" }).stdout.trim().split("\n");
  expect(log.length).toBeGreaterThan(0);
  expect(new Set(log)).toEqual(new Set([`${runId}|${canonicalHash(s.record)}`]));
  expect(spawnSync("git", ["rev-parse", "HEAD^{tree}"], { cwd: ws, encoding: "utf8" }).stdout.trim()).toBe(g.end!.tree!);
  expect(r.stderr).toContain("of this run now carry its trailer");
  // The plant was live: git run the ordinary way in that workspace runs it.
  const cfg = readFileSync(join(ws, ".git", "config"), "utf8");
  if (cfg.includes("fsmonitor")) {
    spawnSync("git", ["status"], { cwd: ws, stdio: "ignore" });
    expect(existsSync(join(markers, "fsmonitor-ran"))).toBe(true);
  }

  // Verify (the CLI, with the ledger at hand) passes; one changed byte fails it loudly.
  const ok = await runCli(["report", "verify", join(out, "provenance.json")], { home });
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain("✓ ledger rows");
  writeFileSync(join(out, "edited.json"), text.replace('"totalTokens":74', '"totalTokens":7'));
  const bad = await runCli(["report", "verify", join(out, "edited.json")], { home });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("FAIL: the signature does not match the record");
  everyByteMatters(text, home);

  // The step summary: what was there, then exactly the record's markdown; `report --md` prints the same.
  const md = recordMarkdown(s, canonicalHash(s.record));
  expect(readFileSync(summary, "utf8")).toBe(`## earlier step\n\n${md}\n`);
  const viaCli = await runCli(["report", runId, "--md"], { home });
  expect(viaCli.stdout).toBe(md);
  const normalised = normaliseMarkdown(md, { runId, ws, home, host: hostname() });
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, normalised);
  expect(normalised).toBe(readFileSync(GOLDEN, "utf8"));
});

test("codex with --simulate: the record of a budget cut-off run matches the ledger and verifies", async () => {
  const home = freshHome();
  mkdirSync(join(home, "bottles"));
  writeFileSync(join(home, "bottles", "audited.md"), "---\nextends: [openai]\negress:\n  routes: []\n  log: full\n---\n");
  const ws = gitWorkspace();
  const r = await runCli(["run", "codex", "--headless", "--prompt", "Say hello.", "--simulate", "--bottle", "audited", "--backend", "sandbox", "--budget", "50", "--no-prompt-in-report"], {
    home,
    cwd: ws,
    env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` },
    timeoutMs: 150_000,
  });
  expect(r.timedOut).toBe(false);
  expect(r.code).toBe(EXIT_BUDGET_STOPPED);
  const runId = /bottle resume (\S+)/.exec(r.stderr)![1]!;
  const own = join(home, "runs", runId, "provenance.json");
  const s = recordOf(own);
  expect(s.record.run).toMatchObject({ id: runId, state: "ended", stopReason: "budget", simulated: true });
  expect(s.record.agent).toMatchObject({ name: "codex", provider: "codex", cli: { package: "@openai/codex" } });
  // --no-prompt-in-report: the hash, never the text.
  expect(s.record.prompt).toEqual({ sha256: new Bun.CryptoHasher("sha256").update("Say hello.").digest("hex"), text: null, included: false });
  expect(readFileSync(own, "utf8")).not.toContain("Say hello.");
  expect(s.record.bottles.routes.find((x) => x.host === "api.openai.com")).toMatchObject({ upstream: "simulator", secret: null });
  await expectMatchesLedger(home, s);
  expect(s.record.workspace!.git).toMatchObject({ start: { branch: "main", dirty: false }, end: { branch: "main" } });
  const ok = await runCli(["report", "verify", own], { home });
  expect(ok.code).toBe(0);
  everyByteMatters(readFileSync(own, "utf8"), home);
  const txt = await runCli(["report", "codex"], { home });
  expect(txt.code).toBe(0);
  expect(txt.stdout).toContain(`run        ${runId} (codex)`);
  expect(txt.stdout).toContain("outcome    cut off by its budget: run budget (--budget): 74 of 50 codex tokens; agent exit 1");
  // The logs and the dashboard of the ended run point at its record.
  const logs = await runCli(["logs", runId], { home });
  expect(logs.stderr).toContain(`provenance record: ${own} (\`bottle report ${runId}\`)`);
  const dash = JSON.parse((await runCli(["dashboard", "--json"], { home })).stdout) as { runs: Array<{ runId: string; record?: string }> };
  expect(dash.runs.find((x) => x.runId === runId)?.record).toBe(own);
});
