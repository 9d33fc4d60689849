/**
 * Discovery and precedence: embedded defaults < $BOTTLE_HOME < ./.bottle for agents (a ./.bottle file with a
 * host agent's name only adds a budget; see tests/launch/repo-agent-shadow.test.ts); bottles only from
 * embedded and $BOTTLE_HOME, a cwd bottle ignored with a warning that says why.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ManifestError } from "../../src/errors.ts";
import { agentOrBroken, loadCatalog } from "../../src/manifest/index.ts";

const VALID = join(import.meta.dir, "../fixtures/manifest/valid");
const HOME = join(VALID, "home");
const CWD = join(VALID, "cwd");

function tempTree(): { home: string; cwd: string } {
  const root = mkdtempSync(join(process.env.TMPDIR!, "catalog-"));
  const home = join(root, "home");
  const cwd = join(root, "repo");
  mkdirSync(home);
  mkdirSync(cwd);
  return { home, cwd };
}

describe("the valid fixture tree", () => {
  const c = loadCatalog({ home: HOME, cwd: CWD });

  test("agents: embedded, then home, then cwd; a cwd file never changes a host agent's provider or bottle", () => {
    const by = (n: string) => c.agents.get(n)!;
    expect([...c.agents.keys()].sort()).toEqual(["claude", "codex", "helper", "orphan", "pi", "reviewer"]);
    // The repository's helper.md switches the host's pi helper to codex in the wider ci bottle: ignored whole.
    expect(by("helper")).toMatchObject({ source: "home", provider: "pi", bottle: "tools", file: join(HOME, "agents/helper.md"), prompt: "Home helper." });
    expect(c.warnings).toContain(
      `ignored ${join(CWD, ".bottle/agents/helper.md")}: it has the name of the host agent helper (${join(HOME, "agents/helper.md")}) but provider codex, not pi; a repository's file may only add a budget to a host agent, so the agent runs as the host defines it; name the repository's agent differently (e.g. helper-repo) to use it`,
    );
    expect(by("claude")).toMatchObject({ source: "home", bottle: "base", prompt: "My own Claude.", file: join(HOME, "agents/claude.md") });
    expect(by("codex")).toMatchObject({ source: "embedded", provider: "codex", bottle: "openai", file: "embedded:agents/codex.md" });
    expect(by("reviewer")).toEqual({
      name: "reviewer",
      file: join(HOME, "agents/reviewer.md"),
      source: "home",
      provider: "claude",
      bottle: "web",
      model: "claude-sonnet-4-5",
      skills: ["code-review", "git-blame"],
      budget: { claude: { tokens: 300000, per: "week" } },
      shutdown: "freeze",
      prompt: "You review pull requests.\n\nBe brief.",
    });
  });

  test("bottles: embedded and home only; the user's file replaces the built-in one", () => {
    expect([...c.bottles.keys()].sort()).toEqual(["anthropic", "base", "ci", "openai", "tools", "web"]);
    expect(c.bottles.get("anthropic")).toMatchObject({ source: "home", egress: { routes: [{ host: "api.anthropic.com", upstream: "https://llm-gateway.corp/anthropic" }] } });
    expect(c.bottles.get("openai")!.source).toBe("embedded");
    expect(c.bottles.get("web")).toEqual({
      name: "web",
      file: join(HOME, "bottles/web.md"),
      source: "home",
      extends: ["base"],
      env: { LOG_LEVEL: "debug", GITHUB_TOKEN: "?Your GitHub token" },
      egress: {
        routes: [
          { host: "registry.npmjs.org", mitm: false },
          { host: "gateway.corp", upstream: "https://gw.corp/openai", auth: { header: "authorization", env: "CORP_KEY", prefix: "Bearer " }, provider: "codex" },
        ],
        log: "full",
      },
      budget: { codex: { tokens: 500000 } },
      backend: { prefer: "sandbox", workspace: "copy" },
    });
  });

  test("a bottle under ./.bottle/bottles is ignored with a warning that says why", () => {
    expect(c.bottles.has("wide-open")).toBe(false);
    expect(c.warnings).toContain(
      `ignored ${join(CWD, ".bottle/bottles/wide-open.md")}: bottles are read only from ${join(HOME, "bottles")}, because a repository must not loosen its own sandbox; move the file there if you trust it`,
    );
  });

  test("an agent whose default bottle does not exist loads, with a warning", () => {
    expect(c.agents.get("orphan")!.bottle).toBe("nowhere");
    expect(c.warnings.filter((w) => w.includes("orphan"))).toEqual([
      `agent orphan (${join(CWD, ".bottle/agents/orphan.md")}) names the default bottle nowhere, which is not defined; create ${join(HOME, "bottles/nowhere.md")} or pass --bottle`,
    ]);
    expect(c.warnings).toHaveLength(3);
  });
});

describe("first run and edge cases", () => {
  test("with no config at all, the embedded agents and bottles are there", () => {
    const { home, cwd } = tempTree();
    const c = loadCatalog({ home, cwd });
    expect([...c.agents.values()].map((a) => [a.name, a.provider, a.bottle, a.source])).toEqual([
      ["claude", "claude", "anthropic", "embedded"],
      ["codex", "codex", "openai", "embedded"],
      ["pi", "pi", "anthropic", "embedded"],
    ]);
    expect(c.bottles.get("anthropic")!.egress).toEqual({ routes: [{ host: "api.anthropic.com", auth: { header: "x-api-key", env: "ANTHROPIC_API_KEY" } }], log: "blocks" });
    expect(c.bottles.get("openai")!.egress.routes.map((r) => r.host)).toEqual(["api.openai.com", "chatgpt.com"]);
    expect(c.warnings).toEqual([]);
  });

  test("home defaults to $BOTTLE_HOME and cwd to the process's", () => {
    const c = loadCatalog();
    expect(c.agents.get("claude")!.source).toBe("embedded");
  });

  test("when ./.bottle is $BOTTLE_HOME itself (cwd is ~), nothing is read twice and nothing is ignored", () => {
    const { cwd } = tempTree();
    const home = join(cwd, ".bottle");
    cpSync(HOME, home, { recursive: true });
    const c = loadCatalog({ home, cwd });
    expect(c.warnings).toEqual([]);
    expect(c.bottles.get("web")!.source).toBe("home");
    expect(c.agents.get("reviewer")!.source).toBe("home");
  });

  test("non-markdown files and dotfiles are not manifests", () => {
    const { home, cwd } = tempTree();
    mkdirSync(join(home, "agents"));
    writeFileSync(join(home, "agents", "README.txt"), "notes");
    writeFileSync(join(home, "agents", ".#reviewer.md"), "editor lock");
    mkdirSync(join(home, "agents", "drafts.md"));
    expect([...loadCatalog({ home, cwd }).agents.keys()]).toEqual(["claude", "codex", "pi"]);
  });

  test("one invalid agent file is a warning with its real path and line; only that agent's lookup fails", () => {
    const { home, cwd } = tempTree();
    mkdirSync(join(cwd, ".bottle", "agents"), { recursive: true });
    const file = join(cwd, ".bottle", "agents", "bad.md");
    writeFileSync(file, "---\nprovider: claude\nskills: [ok, ../../etc]\n---\n");
    const c = loadCatalog({ home, cwd });
    expect(c.agents.has("claude")).toBe(true);
    expect(c.agents.has("bad")).toBe(false);
    expect(c.warnings.some((w) => w.startsWith(`skipped the agent file ${file}:3: `))).toBe(true);
    try {
      agentOrBroken(c, "bad");
      throw new Error("expected a ManifestError");
    } catch (e) {
      expect(e).toBeInstanceOf(ManifestError);
      expect((e as ManifestError).context).toEqual({ file, line: 3, key: "skills[1]", fix: "use lowercase letters, digits and '-', starting with a letter (e.g. code-review)" });
    }
  });

  test("an invalid bottle under cwd is still only ignored, never parsed", () => {
    const { home, cwd } = tempTree();
    mkdirSync(join(cwd, ".bottle", "bottles"), { recursive: true });
    writeFileSync(join(cwd, ".bottle", "bottles", "broken.md"), "---\negress: [\n");
    const c = loadCatalog({ home, cwd });
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toStartWith(`ignored ${join(cwd, ".bottle/bottles/broken.md")}: `);
  });
});
