/**
 * The README's example agent and bottle are real: each block labelled with a $BOTTLE_HOME path is written
 * there as-is, loaded and composed, so the README cannot drift from what the loader accepts.
 */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { composeBottles, loadCatalog } from "../../src/manifest/index.ts";

const README = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");

test("the README's agent and bottle examples load and compose", () => {
  const examples = [...README.matchAll(/^`\$BOTTLE_HOME\/(\S+)`:\n```markdown\n([\s\S]*?)```/gm)].map((m) => ({ path: m[1]!, text: m[2]! }));
  expect(examples.map((e) => e.path)).toEqual(["agents/reviewer.md", "bottles/web.md"]);
  const home = mkdtempSync(join(process.env.TMPDIR!, "readme-"));
  for (const e of examples) {
    mkdirSync(dirname(join(home, e.path)), { recursive: true });
    writeFileSync(join(home, e.path), e.text);
  }
  const catalog = loadCatalog({ home, cwd: home });
  expect(catalog.warnings).toEqual([]);
  expect(catalog.agents.get("reviewer")).toMatchObject({ provider: "claude", bottle: "web", skills: ["code-review"], shutdown: "freeze", prompt: "You review pull requests. Be brief." });
  const web = composeBottles(catalog, ["web"]);
  expect(web.chain).toEqual(["anthropic", "web"]);
  expect(web.routes.map((r) => r.host)).toEqual(["api.anthropic.com", "registry.npmjs.org"]);
  expect(web.env).toEqual({ GITHUB_TOKEN: "?Your GitHub token" });
});
