/**
 * A budget on a built-in agent or bottle: the file is created in $BOTTLE_HOME as a copy of the built-in
 * manifest plus the budget, the catalog then loads the user's copy, and the budget governs.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setBudget, unsetBudget } from "../../src/budget/budget-files.ts";
import { NotFoundError } from "../../src/errors.ts";
import { loadCatalog } from "../../src/manifest/index.ts";
import { homePaths } from "../../src/paths.ts";

function fresh() {
  const home = mkdtempSync(join(process.env.TMPDIR!, "home-"));
  const cwd = mkdtempSync(join(process.env.TMPDIR!, "cwd-"));
  return { home, cwd, paths: homePaths(home) };
}

test("setting a budget on a built-in agent writes a copy of it, with the budget, that replaces the built-in", () => {
  const { home, cwd, paths } = fresh();
  const before = loadCatalog({ home, cwd }).agents.get("claude")!;
  expect(before.source).toBe("embedded");
  const r = setBudget({ scope: "agent", name: "claude", provider: "claude" }, { tokens: 1000 }, cwd, paths);
  expect(r).toEqual({ file: join(home, "agents", "claude.md"), changed: true, copiedBuiltIn: true });
  const after = loadCatalog({ home, cwd }).agents.get("claude")!;
  expect(after.source).toBe("home");
  expect(after.budget).toEqual({ claude: { tokens: 1000 } });
  // Everything else is the built-in agent's.
  expect({ provider: after.provider, bottle: after.bottle, prompt: after.prompt }).toEqual({ provider: before.provider, bottle: before.bottle, prompt: before.prompt });
  const copied = readFileSync(r.file, "utf8");
  expect(copied).toContain("This copy (made by `bottle budget set`) replaces the built-in one.");
  expect(copied).not.toContain("Copy this file to");
  // A second set edits the user's file in place.
  const again = setBudget({ scope: "agent", name: "claude", provider: "claude" }, { tokens: 2000 }, cwd, paths);
  expect(again.copiedBuiltIn).toBe(false);
  expect(readFileSync(again.file, "utf8")).toContain("claude: 2000");
});

test("a built-in bottle gets a windowed budget the same way; unset on a built-in with no copy changes nothing", () => {
  const { home, cwd, paths } = fresh();
  expect(unsetBudget({ scope: "bottle", name: "openai", provider: "codex" }, cwd, paths)).toEqual({ file: join(home, "bottles", "openai.md"), removed: false });
  expect(existsSync(join(home, "bottles", "openai.md"))).toBe(false);
  setBudget({ scope: "bottle", name: "openai", provider: "codex" }, { tokens: 5000, per: "day" }, cwd, paths);
  const b = loadCatalog({ home, cwd }).bottles.get("openai")!;
  expect(b.source).toBe("home");
  expect(b.budget).toEqual({ codex: { tokens: 5000, per: "day" } });
  expect(b.egress.routes.map((r) => r.host)).toContain("api.openai.com");
});

test("an unknown agent is still not found", () => {
  const { cwd, paths } = fresh();
  expect(() => setBudget({ scope: "agent", name: "nope", provider: "claude" }, { tokens: 1 }, cwd, paths)).toThrow(NotFoundError);
});
