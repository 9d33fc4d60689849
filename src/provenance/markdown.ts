/**
 * The record as a pull-request summary (`bottle report --md`, and the GitHub step summary of a headless
 * run): a short table a reviewer takes in at a glance, then every detail folded below it. Values a run
 * controls (hosts, paths, the prompt) are escaped so they cannot break out of a table cell or a fence.
 * Pure.
 */
import type { ProvenanceRecord, SignedRecord } from "./record.ts";
import { agentLine, budgetLine, egressLine, isProxySession, outcome, spent, workspaceLine } from "./summary.ts";

/** Text safe inside a table cell: no pipes, no newlines, no HTML. */
function cell(s: string | number | null): string {
  return String(s ?? "").replace(/[\\|]/g, (c) => `\\${c}`).replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r?\n/g, " ");
}

function code(s: string | number | null): string {
  const t = String(s ?? "").replace(/\r?\n/g, " ");
  return t === "" ? "" : `\`${t.replace(/`/g, "ˋ").replace(/\|/g, "\\|")}\``;
}

function table(head: string[], rows: Array<Array<string | number | null>>, none = "None."): string[] {
  if (rows.length === 0) return [none];
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map((c) => (typeof c === "string" && c.startsWith("`") ? c : cell(c))).join(" | ")} |`)];
}

function fold(summary: string, body: string[]): string[] {
  return ["<details>", `<summary>${summary}</summary>`, "", ...body, "", "</details>", ""];
}

function fence(text: string): string[] {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = "`".repeat(longest + 1);
  return [`${f}text`, text, f];
}

export function recordMarkdown(s: SignedRecord, hash: string): string {
  const r: ProvenanceRecord = s.record;
  const proxy = isProxySession(r);
  const out: string[] = [
    `### bottle ${proxy ? "proxy session" : "run"} ${code(r.run.id)}${r.run.simulated ? " (simulated provider)" : ""}`,
    "",
    "| | |",
    "|---|---|",
    `| Agent | ${cell(agentLine(r))} |`,
    `| Outcome | ${cell(outcome(r))} |`,
    `| Spent | ${cell(spent(r))} |`,
    `| Budget | ${cell(budgetLine(r))} |`,
    `| Egress | ${cell(egressLine(r))} |`,
    `| Workspace | ${cell(workspaceLine(r))} |`,
    `| Record | ${code(hash)}, signed by ${code(s.signature.keyId)} |`,
    "",
  ];
  out.push(
    ...fold("Models and usage", table(
      ["provider", "model", "requests", "input", "output", "cache write", "cache read", "cached", "reasoning", "total"],
      r.models.map((m) => [m.provider, code(m.model || "(none)"), m.requests, m.inputTokens, m.outputTokens, m.cacheCreationTokens, m.cacheReadTokens, m.cachedTokens, m.reasoningTokens, m.totalTokens]),
    )),
  );
  out.push(
    ...fold("Budgets and enforcement", [
      ...table(["provider", "tokens", "per", "scope", "set in"], r.budgets.governing.map((b) => [b.provider, b.tokens, b.per ?? "", `${b.scope}${b.name ? ` ${b.name}` : ""}`, b.file ? code(b.file) : b.scope === "run" ? "--budget" : ""])),
      "",
      `On crossing: **${r.budgets.shutdown.policy}** (${cell(r.budgets.shutdown.from)}); preflight: ${r.budgets.preflight.mode}.`,
      "",
      ...table(["time", "action", "trigger", "scope", "used", "limit"], r.enforcement.map((a) => [a.at, a.kind, a.trigger, a.scope, a.used, a.limit]), "No enforcement action."),
    ]),
  );
  out.push(
    ...fold("Egress", [
      ...(r.bottles.egressLog === "full" ? [] : [`${proxy ? "The session's `--log`" : "The bottles' `egress.log`"} is \`blocks\`: the audit log keeps denied, refused and failed requests only (\`full\` keeps every request).`, ""]),
      ...table(["host", "requests", "up", "down", "statuses", "decisions"], r.egress.hosts.map((h) => [code(h.host), h.requests, h.bytesUp, h.bytesDown, Object.entries(h.statuses).map(([k, n]) => `${k}: ${n}`).join(", "), Object.entries(h.decisions).map(([k, n]) => `${k}: ${n}`).join(", ")])),
      "",
      "Denied or refused:",
      "",
      ...table(["host", "method", "path", "decision", "status", "reason", "count"], r.egress.denials.map((d) => [code(d.host), d.method, code(d.path), d.decision, d.status, d.reason, d.count]), "Nothing was denied or refused."),
    ]),
  );
  out.push(
    ...fold("Bottles and policy", [
      `Bottles: ${proxy ? "none (`bottle proxy`)" : r.bottles.requested.map(code).join(", ")}${r.bottles.chain.length > r.bottles.requested.length ? ` (chain ${r.bottles.chain.map(code).join(", ")})` : ""}; policy ${code(r.bottles.policySha256)}.`,
      "",
      ...table(["route", "metered", "upstream", "secret (name)"], r.bottles.routes.map((x) => [code(x.host), x.mitm ? (x.unmetered ? `yes, except ${x.unmetered.join(", ")}` : "yes") : "no (tunnel)", x.upstream ? code(x.upstream) : "", x.secret ? code(x.secret) : ""])),
      "",
      `Secrets injected (names only): ${r.bottles.secrets.length === 0 ? "none" : r.bottles.secrets.map((x) => code(x.name)).join(", ")}.`,
    ]),
  );
  const w = r.workspace;
  const g = w?.git;
  const workspace = !w
    ? ["None: a `bottle proxy` session gives its clients no workspace, so none was read."]
    : [
        `${code(w.path)} (${w.mode}).`,
        "",
        ...(g
          ? [
              `Start: ${code(g.start.branch ?? "detached")} at ${code(g.start.commit ?? "none")}${g.start.dirty ? ", with uncommitted changes" : ""}.`,
              "",
              ...(g.note ? [`**${cell(g.note)}**`, ""] : []),
              `End: ${g.end ? `${code(g.end.branch ?? "detached")} at ${code(g.end.commit ?? "none")}${g.end.dirty ? ", with uncommitted changes" : ""}` : "unknown"}.`,
              "",
              ...table(["file", "+", "−"], (g.diff?.changes ?? []).map((c) => [code(c.path), c.insertions, c.deletions]), g.diff ? "No file changed." : "The changes could not be read."),
            ]
          : ["Not a git repository."]),
      ];
  out.push(...fold("Workspace", workspace));
  out.push(
    ...fold("Agent, prompt and run", [
      r.agent
        ? `Agent ${code(r.agent.name)}, manifest ${code(r.agent.file)} sha256 ${code(r.agent.manifestSha256)}; CLI ${code(`${r.agent.cli.package}@${r.agent.cli.version ?? "unknown"}`)}.`
        : "No agent: bottle did not start this session's client, so it cannot say which it was.",
      "",
      `Run ${code(r.run.id)} (label ${code(r.run.label)}) on ${code(r.run.host)}, ${proxy ? "the proxy alone (no bottle)" : `${r.run.backend} backend`}, ${r.run.startedAt} → ${r.run.endedAt ?? "not ended"}, ${r.run.recordedBy === "next-start" ? "recorded at the next start (its process had died)" : "recorded when it ended"}.`,
      "",
      `Prompt sha256 ${code(r.prompt.sha256 ?? "none")}${r.prompt.included ? ":" : r.prompt.sha256 ? " (text left out: --no-prompt-in-report)." : "."}`,
      ...(r.prompt.included && r.prompt.text !== null ? ["", ...fence(r.prompt.text)] : []),
    ]),
  );
  out.push(`Verify: \`bottle report verify provenance.json\``, "");
  return out.join("\n");
}
