/**
 * The GitHub Actions job the README shows (docs/ci/github-actions.yml), parsed and run. The test checks
 * the job's shape (a headless run under a budget writing --report, verify and the artifact upload run even
 * when the budget stops the agent), then runs its bottle steps the way a runner would — each `run:` script
 * through bash, with the step's env, the `${{ … }}` expressions filled in, GITHUB_STEP_SUMMARY set and a
 * HOME of the test's own — with one change: `bottle` on PATH adds `--simulate` to `bottle run`, since no
 * real API can be reached here (the install step, which downloads, is not run). The job must leave a step
 * summary and a record that verifies, signed by the key the job restored, which a reviewer elsewhere
 * verifies with the team's pinned key id.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import type { LedgerDb } from "../../src/ledger/index.ts";
import type { SignedRecord } from "../../src/provenance/index.ts";
import { keyIdOf } from "../../src/provenance/sign.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshHome, MAIN, runCli } from "../support/cli.ts";
import { gitWorkspace } from "./helpers.ts";

setDefaultTimeout(180_000);
const WORKFLOW = resolve(import.meta.dir, "../../docs/ci/github-actions.yml");
const dbs: LedgerDb[] = [];
afterAll(async () => {
  for (const db of dbs) await db.destroy();
});

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const job = () => (parse(readFileSync(WORKFLOW, "utf8")) as { jobs: { agent: { steps: Step[] } } }).jobs.agent;
const step = (name: string) => job().steps.find((s) => s.name === name)!;

test("the job runs the agent headless under a budget and keeps a verified record even when the budget stops it", () => {
  const run = step("Run the agent under a budget").run!;
  expect(run).toMatch(/^bottle run claude --headless --prompt "\$PROMPT" .*--budget \d+ .*--report provenance\.json/);
  expect(step("Verify the record")).toMatchObject({ if: "always()", run: "bottle report verify provenance.json" });
  expect(step("Keep the record")).toMatchObject({ if: "always()", uses: "actions/upload-artifact@v4", with: { path: "provenance.json" } });
  expect(step("Run the agent under a budget").env).toEqual({ ANTHROPIC_API_KEY: "${{ secrets.ANTHROPIC_API_KEY }}", PROMPT: "${{ inputs.prompt }}" });
});

test("the README's CI section shows the job's own steps", () => {
  const readme = readFileSync(resolve(import.meta.dir, "../../README.md"), "utf8");
  const block = /```yaml\n(      - name: Run the agent under a budget[\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const shown = parse(block!.replace(/^ {6}/gm, "")) as Step[];
  expect(shown).toEqual(job().steps.filter((x) => shown.some((y) => y.name === x.name)));
  expect(shown.map((x) => x.name)).toEqual(["Run the agent under a budget", "Verify the record", "Keep the record"]);
});

test("run as a runner would, the job leaves a step summary and a record that verifies under the team's pinned key", async () => {
  const tmp = mkdtempSync(join(process.env.TMPDIR!, "runner-"));
  const home = join(tmp, "home");
  const bin = join(tmp, "bin");
  Bun.spawnSync(["mkdir", "-p", home, bin]);
  const wrapper = join(bin, "bottle");
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = run ]; then shift; exec bun ${MAIN} run "$@" --simulate; fi\nexec bun ${MAIN} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const teamKey = generateKeyPairSync("ed25519");
  const keyPem = teamKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString().trim();
  const pinned = keyIdOf(teamKey.publicKey.export({ type: "spki", format: "pem" }).toString());
  const expressions: Record<string, string> = { "${{ secrets.BOTTLE_SIGNING_KEY }}": keyPem, "${{ secrets.ANTHROPIC_API_KEY }}": "", "${{ inputs.prompt }}": "Say hello." };
  const checkout = gitWorkspace();
  const summary = join(tmp, "step-summary");
  writeFileSync(summary, "");
  const runStep = (name: string) => {
    const s = step(name);
    const env: Record<string, string> = { PATH: `${bin}:${AGENTS_BIN}:${process.env.PATH}`, HOME: home, TMPDIR: process.env.TMPDIR!, NO_COLOR: "1", GITHUB_STEP_SUMMARY: summary, CI: "true", GITHUB_ACTIONS: "true" };
    for (const [k, v] of Object.entries(s.env ?? {})) env[k] = expressions[v] ?? v;
    const r = Bun.spawnSync(["bash", "-e", "-c", s.run!], { cwd: checkout, env, stdout: "pipe", stderr: "pipe", timeout: 150_000 });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };

  expect(runStep("Restore the signing key").code).toBe(0);
  // `bottle report key` names the restored key: the id the team pins.
  const key = Bun.spawnSync(["bun", MAIN, "report", "key"], { env: { PATH: process.env.PATH!, HOME: home, TMPDIR: process.env.TMPDIR! }, stdout: "pipe" });
  expect(key.stdout.toString()).toBe(`${pinned}\n${join(home, ".bottle", "ca", "signing.pub")}\n`);
  const ran = runStep("Run the agent under a budget");
  if (ran.code !== 0) console.error(ran.stderr);
  expect(ran.code).toBe(0);
  const verified = runStep("Verify the record");
  if (verified.code !== 0) console.error(verified.stderr, verified.stdout);
  expect(verified.code).toBe(0);
  expect(verified.stdout).toContain("✓ signature by");
  expect(verified.stdout).toContain("✓ ledger rows");

  const s = JSON.parse(readFileSync(join(checkout, "provenance.json"), "utf8")) as SignedRecord;
  expect(s.signature.keyId).toBe(pinned);
  expect(s.record.budgets.governing.map((b) => [b.provider, b.tokens, b.scope])).toEqual([["claude", 200000, "run"]]);
  expect(s.record.prompt.text).toBe("Say hello.");
  const md = readFileSync(summary, "utf8");
  expect(md.startsWith(`### bottle run \`${s.record.run.id}\` (simulated provider)\n`)).toBe(true);
  expect(md).toContain("| Outcome | finished (exit 0) |");

  // A reviewer on another machine: the key is not theirs, so it fails until the team's pin is passed.
  const reviewer = freshHome();
  const denied = await runCli(["report", "verify", join(checkout, "provenance.json")], { home: reviewer });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toContain(`signed by key ${pinned}, which is not trusted here`);
  const pins = join(tmp, "trusted-keys");
  writeFileSync(pins, `# the CI signing key\n${pinned}\n`);
  const ok = await runCli(["report", "verify", join(checkout, "provenance.json"), "--trust", pins], { home: reviewer });
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain("ledger: none on this host");
  expect(existsSync(join(home, ".bottle", "runs", s.record.run.id, "provenance.json"))).toBe(true);
});
