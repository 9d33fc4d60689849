/**
 * The record for a terminal (`bottle report <run>`): the summary lines first, then each section as
 * aligned lines. Pure.
 */
import type { SignedRecord } from "./record.ts";
import { agentLine, budgetLine, egressLine, isProxySession, outcome, spent, workspaceLine } from "./summary.ts";

export function recordText(s: SignedRecord, hash: string, path: string): string {
  const r = s.record;
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(10)} ${v}`);
  row("run", `${r.run.id} (${r.run.label}) on ${r.run.host}, ${isProxySession(r) ? "bottle proxy session, no bottle" : r.run.backend}${r.run.simulated ? ", simulated provider" : ""}`);
  row("time", `${r.run.startedAt} → ${r.run.endedAt ?? "not ended"} (${r.run.state})`);
  row("agent", agentLine(r));
  row("outcome", outcome(r));
  row("spent", spent(r));
  row("budget", budgetLine(r));
  row("egress", egressLine(r));
  row("workspace", workspaceLine(r));
  row("bottles", `${r.bottles.requested.length === 0 ? "none" : r.bottles.requested.join(", ")}; policy ${r.bottles.policySha256}`);
  row("secrets", r.bottles.secrets.length === 0 ? "none" : r.bottles.secrets.map((x) => x.name).join(", "));
  const text = r.prompt.included && r.prompt.text !== null ? `${JSON.stringify(r.prompt.text.length > 200 ? `${r.prompt.text.slice(0, 200)}…` : r.prompt.text)}, ` : "";
  row("prompt", `${text}sha256 ${r.prompt.sha256 ?? "none"}${r.prompt.included ? "" : r.prompt.sha256 ? " (text left out)" : ""}`);
  lines.push("", "models:");
  for (const m of r.models) lines.push(`  ${m.provider} ${m.model || "(none)"}: ${m.requests} requests, ${m.totalTokens} tokens (in ${m.inputTokens}, out ${m.outputTokens}, cache write ${m.cacheCreationTokens}, cache read ${m.cacheReadTokens}, cached ${m.cachedTokens}, reasoning ${m.reasoningTokens})`);
  if (r.enforcement.length > 0) {
    lines.push("", "enforcement:");
    for (const a of r.enforcement) lines.push(`  ${a.at} ${a.kind} (${a.trigger})${a.scope ? ` ${a.scope}` : ""}${a.used !== null ? `: ${a.used} of ${a.limit}` : ""}`);
  }
  lines.push("", "egress:");
  for (const h of r.egress.hosts) lines.push(`  ${h.host}: ${h.requests} requests, ${h.bytesUp} B up, ${h.bytesDown} B down; ${Object.entries(h.statuses).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  for (const d of r.egress.denials) lines.push(`  ${d.decision} ${d.method} ${d.host}${d.path} → ${d.status} ×${d.count}${d.reason ? ` (${d.reason})` : ""}`);
  const changes = r.workspace?.git?.diff?.changes ?? [];
  if (changes.length > 0) {
    lines.push("", "changed:");
    for (const c of changes) lines.push(`  ${c.path} +${c.insertions} -${c.deletions}`);
  }
  lines.push("", `record    ${path}`, `hash      ${hash}`, `signed by ${s.signature.keyId}`);
  return `${lines.join("\n")}\n`;
}
