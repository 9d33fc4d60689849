/**
 * Composition: extends chains, several bottles in order, the merge rules (env later wins, routes
 * concatenate, last log level wins), budget layers that budget/precedence.ts and enforce/plan.ts consume,
 * and the errors: unknown bottles with a did-you-mean, dangling extends with file and line, cycles named.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { formatError } from "../../src/cli/format-error.ts";
import { launchBudget } from "../../src/enforce/plan.ts";
import { ManifestError } from "../../src/errors.ts";
import { composeBottles, loadCatalog, loadSettings, type Catalog } from "../../src/manifest/index.ts";

const FIX = join(import.meta.dir, "../fixtures/manifest");
const HOME = join(FIX, "valid/home");
const catalog = loadCatalog({ home: HOME, cwd: join(FIX, "valid/cwd") });
const b = (n: string) => join(HOME, "bottles", `${n}.md`);

function errorOf(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return e as ManifestError;
  }
  throw new Error("expected a ManifestError");
}

describe("extends", () => {
  test("a diamond (ci extends web and tools, both extend base) lists base once, parents first", () => {
    const c = composeBottles(catalog, ["ci"]);
    expect(c.requested).toEqual(["ci"]);
    expect(c.chain).toEqual(["base", "web", "tools", "ci"]);
    expect(c.ancestors).toEqual({ ci: ["web", "tools", "base"] });
    expect(c.files).toEqual([b("base"), b("web"), b("tools"), b("ci")]);
  });

  test("merge: env later wins (with the file that won), routes concatenate in chain order, last log level wins", () => {
    const c = composeBottles(catalog, ["ci"]);
    expect(c.env).toEqual({ BASE: "1", LOG_LEVEL: "debug", GITHUB_TOKEN: "?Your GitHub token", CI: "true" });
    expect(c.envOrigin).toEqual({ BASE: b("base"), LOG_LEVEL: b("web"), GITHUB_TOKEN: b("web"), CI: b("ci") });
    expect(c.routes.map((r) => r.host)).toEqual(["api.anthropic.com", "registry.npmjs.org", "gateway.corp", "*.github.com"]);
    expect(c.log).toBe("full");
    // Backend options merge later-wins per field: tools (later) prefers docker, web's workspace stays.
    expect(c.backend).toEqual({ prefer: "docker", workspace: "copy" });
  });

  test("shutdown and preflight: the requested bottle's own value, else its nearest ancestor's", () => {
    expect(composeBottles(catalog, ["ci"])).toMatchObject({ shutdown: "kill", preflight: "provider" });
    expect(composeBottles(catalog, ["web"])).toMatchObject({ shutdown: "freeze" });
    expect(composeBottles(catalog, ["web"]).preflight).toBeUndefined();
    // Several bottles: the first one that sets it wins, as in budget/policy.ts.
    expect(composeBottles(catalog, ["tools", "ci"])).toMatchObject({ shutdown: "freeze", preflight: "provider" });
  });
});

describe("several bottles in order", () => {
  test("web then anthropic: routes in order, env from both, the later log level", () => {
    const c = composeBottles(catalog, ["web", "anthropic"]);
    expect(c.chain).toEqual(["base", "web", "anthropic"]);
    expect(c.routes.map((r) => [r.host, r.upstream])).toEqual([
      ["api.anthropic.com", undefined],
      ["registry.npmjs.org", undefined],
      ["gateway.corp", "https://gw.corp/openai"],
      ["api.anthropic.com", "https://llm-gateway.corp/anthropic"],
    ]);
    expect(c.log).toBe("full");
    const flipped = composeBottles(catalog, ["anthropic", "openai"]);
    expect(flipped.log).toBe("blocks");
    expect(flipped.routes.map((r) => r.host)).toEqual(["api.anthropic.com", "api.openai.com", "chatgpt.com"]);
    expect(flipped.files).toEqual([b("anthropic"), "embedded:bottles/openai.md"]);
  });

  test("asking for a bottle twice, or for a bottle and its parent, composes each once", () => {
    const c = composeBottles(catalog, ["web", "base", "web"]);
    expect(c.requested).toEqual(["web", "base"]);
    expect(c.chain).toEqual(["base", "web"]);
    expect(c.routes).toHaveLength(3);
  });
});

describe("budget layers", () => {
  test("requested bottles are scope bottle, their ancestors scope parent nearest-first, each once", () => {
    expect(composeBottles(catalog, ["web"]).budgetLayers).toEqual([
      { scope: "bottle", name: "web", file: b("web"), budget: { codex: { tokens: 500000 } } },
      { scope: "parent", name: "base", file: b("base"), budget: { claude: { tokens: 1000000, per: "day" } } },
    ]);
    expect(composeBottles(catalog, ["ci"]).budgetLayers.map((l) => [l.scope, l.name])).toEqual([
      ["parent", "web"],
      ["parent", "base"],
    ]);
    expect(composeBottles(catalog, ["base", "web"]).budgetLayers.map((l) => [l.scope, l.name])).toEqual([
      ["bottle", "base"],
      ["bottle", "web"],
    ]);
  });

  test("they fit enforce/plan.ts: the nearest ancestor's budget governs when the bottle has none for that provider", () => {
    const settings = loadSettings(HOME);
    const agent = catalog.agents.get("helper")!;
    const composed = composeBottles(catalog, ["ci"]);
    const r = launchBudget({ runId: "r", settings, agent, composed });
    expect(r.plan.budgets.codex).toEqual({ provider: "codex", tokens: 500000, scope: "parent", name: "web", file: b("web") });
    expect(r.plan.budgets.claude).toEqual({ provider: "claude", tokens: 1000000, per: "day", scope: "parent", name: "base", file: b("base") });
    expect(r.plan.budgets.pi).toBeUndefined();
    expect(r.plan.timeZone).toBe("Europe/Berlin");
    expect(r.policy).toEqual({ value: "kill", from: "bottle", file: "bottles ci" });
    expect(r.preflight).toMatchObject({ value: "provider", from: "bottle" });
    // The reviewer agent's own budget beats the bottle's for claude.
    const reviewer = catalog.agents.get("reviewer")!;
    const r2 = launchBudget({ runId: "r", settings, agent: reviewer, composed: composeBottles(catalog, ["web"]) });
    expect(r2.plan.budgets.claude).toMatchObject({ scope: "agent", tokens: 300000, per: "week" });
    expect(r2.layers.map((l) => l.scope)).toEqual(["agent", "bottle", "parent", "global"]);
  });
});

describe("errors", () => {
  test("an unknown bottle gets a did-you-mean", () => {
    const e = errorOf(() => composeBottles(catalog, ["web", "tols"]));
    expect(formatError(e).text).toBe(
      'error: unknown bottle "tols" — did you mean tools? bottles are the files in $BOTTLE_HOME/bottles plus the built-in ones; `bottle bottles` lists them',
    );
    expect(errorOf(() => composeBottles(catalog, [])).message).toBe("no bottle to compose");
  });

  test("extends naming an unknown bottle points at the file and line of that entry", () => {
    const dangling = loadCatalog({ home: join(FIX, "dangling/home"), cwd: join(FIX, "dangling") });
    const e = errorOf(() => composeBottles(dangling, ["x"]));
    expect(formatError(e).text).toBe(
      `error: ${join(FIX, "dangling/home/bottles/x.md")}:4: bottle x extends the unknown bottle "bse" (extends[1]) — did you mean base? bottles are the files in $BOTTLE_HOME/bottles plus the built-in ones; \`bottle bottles\` lists them`,
    );
  });

  test("an extends cycle is an error that names the cycle", () => {
    const cyc: Catalog = loadCatalog({ home: join(FIX, "cycle/home"), cwd: join(FIX, "cycle") });
    expect(errorOf(() => composeBottles(cyc, ["a"])).message).toBe("bottles extend each other in a cycle: a → b → c → a");
    expect(errorOf(() => composeBottles(cyc, ["d"])).message).toBe("bottles extend each other in a cycle: a → b → c → a");
    expect(errorOf(() => composeBottles(cyc, ["c"])).message).toBe("bottles extend each other in a cycle: c → a → b → c");
    expect(errorOf(() => composeBottles(cyc, ["c"])).context).toMatchObject({ file: join(FIX, "cycle/home/bottles/c.md"), key: "extends" });
    // Listing still works; only composing the cycle fails.
    expect([...cyc.bottles.keys()]).toContain("a");
    expect(composeBottles(cyc, ["base"]).chain).toEqual(["base"]);
  });
});
