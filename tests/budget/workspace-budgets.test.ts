/**
 * Host policy stays on the host. A repository's agent file (./.bottle/agents) can make a run stricter and
 * never looser: its budget never governs (the host's precedence is computed without it) and is enforced in
 * addition, against a real ledger. An agent file in the repository that has a host agent's name keeps that
 * host agent's budget in place. `describeScope` says which limit is the repository's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { additionalBudgets, budgetsByScope, describeScope, effectiveBudget, layersFor } from "../../src/budget/precedence.ts";
import { admit, settle } from "../../src/enforce/admission.ts";
import { showRuns } from "../../src/enforce/show.ts";
import { launchBudget } from "../../src/enforce/plan.ts";
import { sqlEnforceStore, type EnforceTables } from "../../src/enforce/sql-store.ts";
import { loadCatalog } from "../../src/manifest/catalog.ts";
import { addRun, charge, ledgerFile, openTestLedger } from "../support/enforce-db.ts";

function tree(files: Record<string, string>): { home: string; cwd: string } {
  const root = mkdtempSync(join(process.env.TMPDIR!, "ws-budgets-"));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return { home: join(root, "home"), cwd: join(root, "repo") };
}

const agentFile = (budget: string) => `---\nprovider: claude\nbudget: { claude: ${budget} }\n---\nplanted\n`;

describe("precedence with a repository's agent", () => {
  test("a repository agent replacing the built-in claude cannot outrank the global budget; it only adds a limit", () => {
    const t = tree({ "repo/.bottle/agents/claude.md": agentFile("99999999"), "repo/README.md": "x" });
    const agent = loadCatalog({ home: t.home, cwd: t.cwd }).agents.get("claude")!;
    expect(agent.source).toBe("cwd");
    expect(agent.shadows?.file).toBe("embedded:agents/claude.md");
    const layers = layersFor({ agent, settings: { file: "/h/settings.yml", budget: { claude: { tokens: 100 } } } });
    expect(effectiveBudget(layers, "claude")).toMatchObject({ scope: "global", tokens: 100 });
    const extra = additionalBudgets(layers, "claude");
    expect(extra).toEqual([{ provider: "claude", tokens: 99999999, scope: "agent", name: "claude", file: join(t.cwd, ".bottle/agents/claude.md"), also: true }]);
    expect(describeScope(extra[0]!)).toContain("(the repository's, in addition to the host's)");
    // Both are enforced, so both are marked: the host's governing one and the repository's extra one.
    expect(budgetsByScope(layers, "claude").map((b) => [b.scope, b.tokens, b.governs])).toEqual([["agent", 99999999, true], ["global", 100, true]]);
  });

  test("the host agent's own budget keeps its place when a repository file shadows it", () => {
    const t = tree({ "home/agents/coder.md": agentFile("5000"), "repo/.bottle/agents/coder.md": agentFile("99999999") });
    const agent = loadCatalog({ home: t.home, cwd: t.cwd }).agents.get("coder")!;
    const plan = launchBudget({ runId: "r", settings: { file: "/h/s.yml", timezone: "UTC" } as never, agent, composed: { budgetLayers: [], requested: [] } });
    expect(plan.plan.budgets.claude).toMatchObject({ scope: "agent", tokens: 5000, file: join(t.home, "agents/coder.md") });
    expect(plan.plan.also?.claude?.map((b) => b.tokens)).toEqual([99999999]);
  });
});

describe("a repository budget is enforced in addition, against the ledger", () => {
  let db: Kysely<EnforceTables>;
  beforeAll(async () => {
    db = openTestLedger(ledgerFile());
    await addRun(db, { id: "ws-1", agent: "claude" });
  });
  afterAll(() => db.destroy());

  test("the stricter repository limit refuses once it is used up, while the host's still has room", async () => {
    const store = sqlEnforceStore(db);
    const plan = {
      runId: "ws-1",
      timeZone: "UTC",
      preflight: "off" as const,
      budgets: { claude: { provider: "claude" as const, tokens: 300, scope: "global" as const } },
      also: { claude: [{ provider: "claude" as const, tokens: 100, scope: "agent" as const, name: "claude", file: "/repo/.bottle/agents/claude.md", also: true as const }] },
    };
    expect(await admit(store, plan, { provider: "claude" })).toEqual({ allow: true });
    await charge(db, "ws-1", "claude", 120);
    const crossed = await settle(store, plan, { provider: "claude", charged: 120 });
    expect(crossed.crossed?.budget.file).toBe("/repo/.bottle/agents/claude.md");
    const d = await admit(store, plan, { provider: "claude" });
    expect(d).toMatchObject({ allow: false, kind: "budget", budget: { also: true, tokens: 100 } });
  });

  test("a generous repository limit never lifts the host's: the global budget still refuses", async () => {
    await addRun(db, { id: "ws-2", agent: "claude" });
    const store = sqlEnforceStore(db);
    const plan = {
      runId: "ws-2",
      timeZone: "UTC",
      preflight: "off" as const,
      budgets: { claude: { provider: "claude" as const, tokens: 100, scope: "run" as const } },
      also: { claude: [{ provider: "claude" as const, tokens: 99999999, scope: "agent" as const, name: "claude", also: true as const }] },
    };
    await charge(db, "ws-2", "claude", 150);
    expect(await admit(store, plan, { provider: "claude" })).toMatchObject({ allow: false, budget: { scope: "run", tokens: 100 } });
  });
});

describe("what budget show says governs a live run is what is enforced", () => {
  test("a claude run is shown only under claude budgets (plus a repository's), never under another key", async () => {
    const db = openTestLedger(ledgerFile());
    try {
      await addRun(db, { id: "live-1", agent: "claude" });
      const layers = layersFor({
        agent: { name: "claude", file: "/repo/.bottle/agents/claude.md", source: "cwd", budget: { claude: { tokens: 70 } } },
        settings: { file: "/h/settings.yml", budget: { claude: { tokens: 100 }, codex: { tokens: 50 }, pi: { tokens: 10 } } },
      });
      const [shown] = await showRuns(sqlEnforceStore(db), [{ runId: "live-1", agent: "claude", bottles: [], provider: "claude", layers }], "UTC");
      expect(shown!.budgets.map((b) => [b.provider, b.scope, b.limit, b.also ?? false])).toEqual([["claude", "global", 100, false], ["claude", "agent", 70, true]]);
    } finally {
      await db.destroy();
    }
  });
});
