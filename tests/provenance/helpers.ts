/**
 * Shared by the provenance tests: a git workspace with one commit, reading a run's rows straight from the
 * ledger file (to compare with what its record says), and the record's markdown with the values that
 * differ between runs replaced by placeholders (for the golden file).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { openLedger, type LedgerDb } from "../../src/ledger/index.ts";
import { freshWorkspace } from "../helpers/bottles.ts";

export function gitWorkspace(files: Record<string, string> = { "README.md": "a project\n" }): string {
  const ws = freshWorkspace(files);
  const git = (...a: string[]) => spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...a], { cwd: ws, stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-qm", "start");
  return ws;
}

export interface RunRows {
  hosts: string[];
  denials: Array<{ host: string; method: string; path: string; decision: string; status: number; reason: string | null }>;
  usageByModel: Map<string, { requests: number; input: number; output: number; total: number }>;
  actions: string[];
}

/** The run's audit, usage and actions as the ledger file holds them (plain SQL, independent of the code under test). */
export async function runRows(home: string, runId: string): Promise<RunRows & { db: LedgerDb }> {
  const db = await openLedger({ path: join(home, "bottle.db") });
  const audit = await db.selectFrom("egress_audit").selectAll().where("run_id", "=", runId).orderBy("id").execute();
  const usage = await db.selectFrom("usage_events").selectAll().where("run_id", "=", runId).execute();
  const actions = await db.selectFrom("enforcement_actions").selectAll().where("run_id", "=", runId).orderBy("id").execute();
  const usageByModel = new Map<string, { requests: number; input: number; output: number; total: number }>();
  for (const u of usage) {
    const k = `${u.provider}/${u.model ?? ""}`;
    const m = usageByModel.get(k) ?? { requests: 0, input: 0, output: 0, total: 0 };
    if (u.kind !== "count") m.requests++;
    m.input += u.input_tokens;
    m.output += u.output_tokens;
    m.total += u.total_tokens;
    usageByModel.set(k, m);
  }
  return {
    db,
    hosts: [...new Set(audit.map((a) => a.host))].sort(),
    denials: audit.filter((a) => a.decision === "deny" || a.decision === "refuse").map((a) => ({ host: a.host, method: a.method, path: a.path.split("?")[0]!, decision: a.decision, status: a.status, reason: a.reason })),
    usageByModel,
    actions: actions.map((a) => `${a.kind}/${a.trigger}`),
  };
}

/** The markdown with run-specific values (ids, times, hashes, keys, paths, byte counts, versions) normalised. */
export function normaliseMarkdown(md: string, o: { runId: string; ws: string; home: string; host: string }): string {
  return md
    .replaceAll(o.runId, "<RUN>")
    .replaceAll(o.ws, "<WORKSPACE>")
    .replaceAll(o.home, "<HOME>")
    .replaceAll(`\`${o.host}\``, "`<HOST>`")
    .replace(/sha256:[0-9a-f]{64}/g, "sha256:<HASH>")
    .replace(/ed25519:[0-9a-f]{64}/g, "ed25519:<KEY>")
    .replace(/\b[0-9a-f]{64}\b/g, "<SHA256>")
    .replace(/\b[0-9a-f]{40}\b/g, "<COMMIT>")
    .replace(/\b[0-9a-f]{12}\b/g, "<SHORT>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<TIME>")
    .replace(/http:\/\/127\.0\.0\.1:\d+/g, "http://127.0.0.1:<PORT>")
    .replace(/(@anthropic-ai\/claude-code|@openai\/codex)([ @])\d+\.\d+\.\d+/g, "$1$2<VERSION>")
    .replace(/^(\| `[^`]+` \| \d+ \| )\d+ \| \d+ \|/gm, "$1<BYTES> | <BYTES> |");
}
