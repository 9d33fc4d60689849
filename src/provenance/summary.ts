/**
 * The facts a person reads first, shared by the text and markdown forms: how the run ended, what it
 * spent, what it reached, what it changed. Pure.
 */
import { PROXY_SESSION, type ProvenanceRecord } from "./record.ts";

/** A `bottle proxy` session's record: no bottle, no agent bottle started, no workspace. */
export function isProxySession(r: ProvenanceRecord): boolean {
  return r.run.backend === PROXY_SESSION;
}

export function outcome(r: ProvenanceRecord): string {
  const stop = [...r.enforcement].find((a) => a.trigger.startsWith("budget") && ["cutoff", "freeze", "kill"].includes(a.kind));
  // A `bottle proxy` session has no agent to exit; it ends on a signal.
  const exit = r.run.exitCode === null || isProxySession(r) ? "" : `; agent exit ${r.run.exitCode}`;
  if (r.run.state === "crashed") return "crashed (recorded at the next start)";
  if (stop) {
    const what = stop.kind === "freeze" ? "frozen" : stop.kind === "kill" ? "killed" : "cut off";
    return `${what} by its budget: ${stop.scope ?? "budget"}: ${stop.used ?? 0} of ${stop.limit ?? 0}${stop.provider ? ` ${stop.provider}` : ""} tokens${exit}`;
  }
  if (r.run.state === "frozen") return "frozen";
  if (r.run.stopReason) return `stopped (${r.run.stopReason})${exit}`;
  return r.run.exitCode === 0 ? "finished (exit 0)" : `finished${exit}`;
}

export function spent(r: ProvenanceRecord): string {
  const u = r.usage;
  return `${u.totalTokens} tokens in ${u.requests} request${u.requests === 1 ? "" : "s"} (${u.inputTokens} in, ${u.outputTokens} out${u.estimated ? `, ${u.estimated} partly estimated` : ""})`;
}

export function budgetLine(r: ProvenanceRecord): string {
  if (r.budgets.governing.length === 0) return "none";
  return r.budgets.governing.map((b) => `${b.provider}: ${b.tokens}${b.per ? ` per ${b.per}` : ""} (${b.scope}${b.name ? ` ${b.name}` : ""})`).join(", ") + `; on crossing: ${r.budgets.shutdown.policy}`;
}

export function egressLine(r: ProvenanceRecord): string {
  const denied = r.egress.denials.reduce((n, d) => n + d.count, 0);
  const hosts = r.egress.hosts.length;
  return `${hosts} host${hosts === 1 ? "" : "s"} in the audit log (log level ${r.bottles.egressLog}), ${denied} denied or refused attempt${denied === 1 ? "" : "s"}`;
}

const short = (c: string | null) => (c ? c.slice(0, 12) : "none");

export function workspaceLine(r: ProvenanceRecord): string {
  if (!r.workspace) return "none (a bottle proxy session gives its clients no workspace)";
  const g = r.workspace.git;
  if (!g) return `${r.workspace.path} (not a git repository)`;
  if (g.note) return `${g.start.branch ?? "detached"} at ${short(g.start.commit)}; at the end .git pointed elsewhere (not read)`;
  const end = g.end;
  const moved = end && end.commit !== g.start.commit ? ` → ${short(end.commit)}` : "";
  const d = g.diff;
  const diff = d ? `, ${d.files} file${d.files === 1 ? "" : "s"} changed (+${d.insertions} −${d.deletions})` : "";
  return `${g.start.branch ?? "detached"} at ${short(g.start.commit)}${moved}${end?.dirty ? ", uncommitted changes" : ""}${diff}`;
}

export function agentLine(r: ProvenanceRecord): string {
  const a = r.agent;
  if (!a) return "none known (a bottle proxy session: bottle did not start its client)";
  return `${a.name} (${a.provider}; ${a.cli.package} ${a.cli.version ?? "version unknown"})`;
}
