/**
 * Precedence matrix: every combination of the five scopes present or absent (32 cases) must pick the most
 * specific defined budget and say where it came from; providers fall through independently.
 */
import { describe, expect, test } from "bun:test";
import type { BudgetLayer } from "../../src/manifest/types.ts";
import { budgetsByScope, describeScope, effectiveBudget, effectiveBudgets, layersFor, SCOPE_ORDER } from "../../src/budget/precedence.ts";

const layerOf: Record<BudgetLayer["scope"], BudgetLayer> = {
  run: { scope: "run", budget: { claude: { tokens: 100 } } },
  agent: { scope: "agent", name: "reviewer", file: "/h/agents/reviewer.md", budget: { claude: { tokens: 200, per: "day" } } },
  bottle: { scope: "bottle", name: "web", file: "/h/bottles/web.md", budget: { claude: { tokens: 300, per: "week" } } },
  parent: { scope: "parent", name: "base", file: "/h/bottles/base.md", budget: { claude: { tokens: 400, per: "month" } } },
  global: { scope: "global", file: "/h/settings.yml", budget: { claude: { tokens: 500 } } },
};

describe("precedence matrix over every scope present/absent", () => {
  for (let mask = 0; mask < 32; mask++) {
    const present = SCOPE_ORDER.filter((_, i) => mask & (1 << i));
    test(`present: [${present.join(", ") || "none"}]`, () => {
      // Feed the layers in reverse to prove the order comes from the scope, not the input order.
      const layers = present.map((s) => layerOf[s]).reverse();
      const got = effectiveBudget(layers, "claude");
      if (present.length === 0) {
        expect(got).toBeUndefined();
        return;
      }
      const want = layerOf[present[0]!];
      expect(got).toBeDefined();
      expect(got!.scope).toBe(want.scope);
      expect(got!.tokens).toBe(want.budget.claude!.tokens);
      expect(got!.per).toBe(want.budget.claude!.per);
      expect(got!.file).toBe(want.file);
      expect(got!.name).toBe(want.name);
      const listed = budgetsByScope(layers, "claude");
      expect(listed.map((b) => b.scope)).toEqual(present);
      expect(listed.filter((b) => b.governs).map((b) => b.scope)).toEqual([present[0]!]);
    });
  }
});

describe("per-provider fall-through", () => {
  test("a layer that limits only claude does not shadow codex from a less specific layer", () => {
    const layers: BudgetLayer[] = [
      { scope: "agent", name: "a", file: "/a.md", budget: { claude: { tokens: 1 } } },
      { scope: "global", file: "/s.yml", budget: { claude: { tokens: 9 }, codex: { tokens: 7, per: "day" } } },
    ];
    expect(effectiveBudget(layers, "claude")).toMatchObject({ scope: "agent", tokens: 1 });
    expect(effectiveBudget(layers, "codex")).toMatchObject({ scope: "global", tokens: 7, per: "day", file: "/s.yml" });
    expect(effectiveBudget(layers, "pi")).toBeUndefined();
    expect(effectiveBudgets(layers).map((b) => b.provider)).toEqual(["claude", "codex"]);
  });

  test("several composed bottles keep composition order inside the bottle scope", () => {
    const layers: BudgetLayer[] = [
      { scope: "parent", name: "base", budget: { claude: { tokens: 4 } } },
      { scope: "bottle", name: "first", budget: { claude: { tokens: 1 } } },
      { scope: "bottle", name: "second", budget: { claude: { tokens: 2 } } },
    ];
    expect(effectiveBudget(layers, "claude")).toMatchObject({ scope: "bottle", name: "first" });
  });
});

describe("layersFor", () => {
  test("assembles --budget, agent, composed bottles and settings in precedence order", () => {
    const layers = layersFor({
      settings: { file: "/h/settings.yml", budget: { claude: { tokens: 5 } } },
      composed: { budgetLayers: [layerOf.bottle, layerOf.parent] },
      agent: { name: "reviewer", file: "/h/agents/reviewer.md", budget: { claude: { tokens: 2 } } },
      runBudget: { tokens: 1 },
    });
    expect(layers.map((l) => l.scope)).toEqual(["run", "agent", "bottle", "parent", "global"]);
    expect(effectiveBudget(layers, "claude")).toEqual({ provider: "claude", tokens: 1, scope: "run" });
    // --budget covers whichever provider the run's traffic is attributed to.
    expect(effectiveBudget(layers, "codex")).toEqual({ provider: "codex", tokens: 1, scope: "run" });
  });

  test("describeScope names the scope and the file", () => {
    expect(describeScope(effectiveBudget([layerOf.agent], "claude")!)).toBe("agent reviewer budget from /h/agents/reviewer.md");
    expect(describeScope(effectiveBudget([layerOf.run], "claude")!)).toBe("run budget (--budget)");
  });
});
