/**
 * What `bottle agents`, `bottle bottles` and `bottle bottles show` print: stable JSON rows (keys always
 * present, in a fixed order, sorted by name) and the tables and summary people read. Pure; the commands
 * only load the catalog and write the result.
 */
import { renderColumns, renderTable } from "../util/table.ts";
import type { Catalog } from "./catalog.ts";
import type { BudgetSpec, ComposedBottle, Route } from "./types.ts";

export interface AgentRow {
  name: string;
  provider: string;
  bottle: string | null;
  model: string | null;
  skills: string[];
  source: string;
  file: string;
}

export interface BottleRow {
  name: string;
  extends: string[];
  hosts: string[];
  source: string;
  file: string;
}

const byName = <T extends { name: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => a.name.localeCompare(b.name));

export function agentRows(c: Catalog): AgentRow[] {
  return byName(c.agents.values()).map((a) => ({ name: a.name, provider: a.provider, bottle: a.bottle ?? null, model: a.model ?? null, skills: a.skills, source: a.source, file: a.file }));
}

export function bottleRows(c: Catalog): BottleRow[] {
  return byName(c.bottles.values()).map((b) => ({ name: b.name, extends: b.extends, hosts: b.egress.routes.map((r) => r.host), source: b.source, file: b.file }));
}

export function agentsTable(rows: readonly AgentRow[]): string {
  return renderTable(
    ["NAME", "PROVIDER", "BOTTLE", "SOURCE", "FILE"],
    rows.map((r) => [r.name, r.provider, r.bottle ?? "-", r.source, r.file]),
  );
}

export function bottlesTable(rows: readonly BottleRow[]): string {
  return renderTable(
    ["NAME", "EXTENDS", "HOSTS", "SOURCE", "FILE"],
    rows.map((r) => [r.name, r.extends.join(", ") || "-", r.hosts.join(", ") || (r.extends.length > 0 ? "(from its parents)" : "(none: all egress denied)"), r.source, r.file]),
  );
}

function describeRoute(r: Route): string {
  const parts: string[] = [];
  parts.push(r.mitm === false ? "tunnelled, not metered" : "metered");
  if (r.upstream) parts.push(`to ${r.upstream}`);
  if (r.auth) parts.push(`${r.auth.header} from $${r.auth.env}${r.auth.prefix ? ` (prefix ${JSON.stringify(r.auth.prefix)})` : ""}`);
  if (r.provider) parts.push(`as ${r.provider}`);
  return `${r.host}: ${parts.join(", ")}`;
}

function describeBudget(spec: BudgetSpec): string[] {
  return Object.entries(spec).map(([p, l]) => `${p} ${l.tokens.toLocaleString("en-US")} tokens${l.per ? ` per ${l.per}` : ""}`);
}

/** The composed bottle as labelled lines for people. */
export function describeComposed(c: ComposedBottle): string {
  const rows: string[][] = [];
  const add = (label: string, values: readonly string[]) => values.forEach((v, i) => rows.push([i === 0 ? label : "", v]));
  add("bottles", [c.requested.join(" + ")]);
  add("chain", [c.chain.join(" → ")]);
  add("files", c.files);
  const env = Object.entries(c.env).map(([k, v]) => (v.startsWith("?") ? `${k} (asked at launch: ${v.slice(1).trim() || k})` : `${k}=${v}`));
  add("env", env.length > 0 ? env : ["(none)"]);
  add("egress", c.routes.length > 0 ? c.routes.map(describeRoute) : ["(no routes: every host is denied)"]);
  add("log", [c.log]);
  const budgets = c.budgetLayers.flatMap((l) => describeBudget(l.budget).map((b) => `${b} (${l.scope} ${l.name})`));
  add("budget", budgets.length > 0 ? budgets : ["(none in these bottles)"]);
  add("shutdown", [c.shutdown ?? "(not set: agent, settings or cutoff)"]);
  add("preflight", [c.preflight ?? "(not set: settings or off)"]);
  const backend = Object.entries(c.backend).map(([k, v]) => `${k} ${v}`);
  add("backend", [backend.length > 0 ? backend.join(", ") : "(automatic)"]);
  return renderColumns(rows);
}
