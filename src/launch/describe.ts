/**
 * The preflight summary: what a launch is about to do, in the order a person checks it (who runs, in which
 * bottles, what it may reach, what it may spend and what happens then, where it runs). The wizard shows the
 * lines before its y/N; `bottle run --dry-run` prints them (or the JSON form, which is stable for scripts).
 * Pure.
 */
import { describeScope } from "../budget/precedence.ts";
import type { Route } from "../manifest/types.ts";
import { routesToSimulator } from "./simulated.ts";
import type { LaunchPlan, PlanDescription } from "./types.ts";

/** Stands for the simulator's URL, which exists only once the run starts. */
const SIMULATOR = "http://simulator.local";

function routeText(r: Route): string {
  const parts: string[] = [];
  if (r.mitm === false) parts.push("tunnelled, not metered");
  if (r.upstream) parts.push(r.upstream === SIMULATOR ? "→ bottle's simulated provider" : `→ ${r.upstream}`);
  if (r.auth) parts.push(`key from $${r.auth.env}`);
  return parts.length > 0 ? `${r.host} (${parts.join("; ")})` : r.host;
}

function sourced(s: { value: string; from: string; file?: string }): string {
  const from = s.from === "flag" ? "--shutdown" : s.from === "default" ? "default" : `${s.from}${s.file ? ` ${s.file}` : ""}`;
  return `${s.value} (${from})`;
}

const pad = (k: string) => k.padEnd(10);

/** The routes as the run will use them: with --simulate, the metered hosts go to the simulator, keyless. */
function effectiveRoutes(plan: LaunchPlan): Route[] {
  return plan.simulated ? routesToSimulator(plan.routes, SIMULATOR) : plan.routes;
}

export function describePlan(plan: LaunchPlan): PlanDescription {
  const a = plan.agent;
  const routes = effectiveRoutes(plan);
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${pad(k)} ${v}`);
  row("agent", `${a.name} (provider ${plan.provider}; ${a.source === "embedded" ? "built in" : a.file})`);
  row("bottles", plan.bottle.requested.join(", ") + (plan.bottle.chain.length > plan.bottle.requested.length ? ` (with ${plan.bottle.chain.filter((c) => !plan.bottle.requested.includes(c)).join(", ")})` : ""));
  row("label", plan.label + (plan.label !== plan.requestedLabel ? ` (${plan.requestedLabel} is in use)` : "") + (plan.color ? `, ${plan.color}` : ""));
  routes.forEach((r, i) => row(i === 0 ? "egress" : "", routeText(r)));
  if (plan.budgets.length === 0) row("budget", "none: nothing limits this run");
  for (const [i, b] of plan.budgets.entries()) row(i === 0 ? "budget" : "", `${b.provider}: ${b.tokens} tokens${b.per ? ` per ${b.per}` : ""} (${describeScope(b)})`);
  row("on budget", sourced(plan.shutdown));
  row("preflight", sourced(plan.preflight));
  row("backend", `${plan.backend.name} (${plan.backend.via === "auto" ? "auto" : plan.backend.via === "flag" ? "--backend" : plan.backend.via})`);
  row("workspace", `${plan.cwd} (${plan.workspace === "bind" ? "bind: the agent edits it in place" : "copy: the agent edits a copy"})`);
  row("processes", plan.processes.how);
  row("mode", plan.headless ? `headless, prompt ${JSON.stringify(plan.prompt ?? "")}` : "interactive");
  const answered = plan.request.envAnswers ?? {};
  for (const p of plan.pendingEnv) {
    if (answered[p.name] !== undefined) row("env", `$${p.name}: answered (${p.message})`);
    else row("asks", `$${p.name}: ${p.message}${p.hostHasValue ? " (set on the host)" : ""}`);
  }
  if (plan.simulated) row("provider", "SIMULATED: bottle's built-in fake provider answers; no real API is called and nothing is billed");
  for (const w of plan.warnings) row("warning", w);
  const json = {
    runId: plan.runId,
    agent: { name: a.name, provider: plan.provider, file: a.file, source: a.source },
    bottles: plan.bottle.requested,
    chain: plan.bottle.chain,
    label: plan.label,
    requestedLabel: plan.requestedLabel,
    color: plan.color ?? null,
    routes: routes.map((r) => ({ host: r.host, mitm: r.mitm !== false, upstream: r.upstream === SIMULATOR ? "simulator" : (r.upstream ?? null), authEnv: r.auth?.env ?? null })),
    budgets: plan.budgets.map((b) => ({ provider: b.provider, tokens: b.tokens, per: b.per ?? null, scope: b.scope, name: b.name ?? null, file: b.file ?? null, ...(b.also ? { inAddition: true } : {}) })),
    shutdown: { policy: plan.shutdown.value, from: plan.shutdown.from, file: plan.shutdown.file ?? null },
    preflight: { mode: plan.preflight.value, from: plan.preflight.from, file: plan.preflight.file ?? null },
    backend: plan.backend,
    workspace: { mode: plan.workspace, path: plan.cwd },
    processes: plan.processes,
    headless: plan.headless,
    prompt: plan.prompt ?? null,
    simulated: plan.simulated,
    envPrompts: plan.pendingEnv.map((p) => ({ name: p.name, message: p.message, file: p.file ?? null, hostHasValue: p.hostHasValue })),
    warnings: plan.warnings,
  };
  return { lines, json };
}
