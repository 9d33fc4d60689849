/**
 * A launch's budget plan: the governing budget per provider with where it came from, the shutdown policy by
 * `--shutdown` → agent → bottle → settings → cutoff, and pre-flight by bottle → settings.
 */
import { describe, expect, test } from "bun:test";
import type { Settings } from "../../src/manifest/types.ts";
import { launchBudget, type LaunchBudgetInput } from "../../src/enforce/plan.ts";

const settings: Settings = { file: "/h/settings.yml", defaulted: false, budget: { claude: { tokens: 9000 }, codex: { tokens: 50, per: "day" } }, shutdown: "freeze", preflight: "estimate", timezone: "Europe/Berlin" };
const base: LaunchBudgetInput = {
  runId: "r1",
  settings,
  agent: { name: "coder", file: "/h/agents/coder.md", budget: { claude: { tokens: 700, per: "week" } } },
  composed: { requested: ["web"], budgetLayers: [{ scope: "bottle", name: "web", file: "/h/bottles/web.md", budget: { claude: { tokens: 800 } } }] },
  bottles: [{ file: "/h/bottles/web.md" }],
};

describe("launchBudget", () => {
  test("agent beats bottle and global per provider; windows and zone carried into the plan", () => {
    const r = launchBudget(base);
    expect(r.plan.budgets.claude).toEqual({ provider: "claude", tokens: 700, per: "week", scope: "agent", name: "coder", file: "/h/agents/coder.md" });
    expect(r.plan.budgets.codex).toEqual({ provider: "codex", tokens: 50, per: "day", scope: "global", file: "/h/settings.yml" });
    expect(r.plan.timeZone).toBe("Europe/Berlin");
    expect(r.layers.map((l) => l.scope)).toEqual(["agent", "bottle", "global"]);
  });

  test("--budget wins for every provider", () => {
    const r = launchBudget({ ...base, budgetFlag: 123 });
    expect(r.plan.budgets.claude).toMatchObject({ tokens: 123, scope: "run" });
    expect(r.plan.budgets.codex).toMatchObject({ tokens: 123, scope: "run" });
  });

  test("shutdown: flag, then agent, then bottle, then settings, then cutoff", () => {
    expect(launchBudget({ ...base, shutdownFlag: "kill", agent: { ...base.agent, shutdown: "freeze" } }).policy).toEqual({ value: "kill", from: "flag" });
    expect(launchBudget({ ...base, agent: { ...base.agent, shutdown: "cutoff" }, bottles: [{ file: "/b.md", shutdown: "kill" }] }).policy).toEqual({ value: "cutoff", from: "agent", file: "/h/agents/coder.md" });
    expect(launchBudget({ ...base, bottles: [{ file: "/b.md" }, { file: "/c.md", shutdown: "kill" }] }).policy).toEqual({ value: "kill", from: "bottle", file: "/c.md" });
    expect(launchBudget(base).policy).toEqual({ value: "freeze", from: "settings", file: "/h/settings.yml" });
    expect(launchBudget({ ...base, settings: { ...settings, defaulted: true, shutdown: "cutoff" } }).policy).toEqual({ value: "cutoff", from: "default" });
  });

  test("a settings.yml that exists but does not set a key leaves that key's value to the default", () => {
    const partial = { ...settings, shutdown: "cutoff" as const, preflight: "off" as const, explicit: ["budget", "timezone"] };
    expect(launchBudget({ ...base, settings: partial }).policy).toEqual({ value: "cutoff", from: "default" });
    expect(launchBudget({ ...base, settings: partial }).preflight).toEqual({ value: "off", from: "default" });
    expect(launchBudget({ ...base, settings: { ...partial, explicit: ["shutdown"] } }).policy).toEqual({ value: "cutoff", from: "settings", file: "/h/settings.yml" });
  });

  test("preflight: a bottle overrides settings", () => {
    expect(launchBudget(base).preflight).toEqual({ value: "estimate", from: "settings", file: "/h/settings.yml" });
    const r = launchBudget({ ...base, bottles: [{ file: "/h/bottles/web.md", preflight: "provider" }] });
    expect(r.preflight).toEqual({ value: "provider", from: "bottle", file: "/h/bottles/web.md" });
    expect(r.plan.preflight).toBe("provider");
  });
});
