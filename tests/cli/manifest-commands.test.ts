/**
 * `bottle agents`, `bottle bottles` and `bottle bottles show`, run as the real compiled binary with a pinned
 * environment and compared, as JSON, with what the loader computes in-process for the same home and cwd.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { composeBottles, loadCatalog } from "../../src/manifest/index.ts";
import { agentRows, bottleRows } from "../../src/manifest/listing.ts";
import { cliEnv, runCompiled } from "../helpers/compiled-cli.ts";

const VALID = join(import.meta.dir, "../fixtures/manifest/valid");
const fixture = { home: join(VALID, "home"), cwd: join(VALID, "cwd") };

describe("first run: no config at all", () => {
  test("agents --json lists the built-in agents with their source", async () => {
    const where = cliEnv();
    const r = await runCompiled(["agents", "--json"], where);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const rows = JSON.parse(r.stdout);
    expect(rows).toEqual(agentRows(loadCatalog(where)));
    expect(rows.map((a: { name: string; provider: string; bottle: string; source: string }) => `${a.name}:${a.provider}:${a.bottle}:${a.source}`)).toEqual([
      "claude:claude:anthropic:embedded",
      "codex:codex:openai:embedded",
      "pi:pi:anthropic:embedded",
    ]);
  });

  test("bottles show anthropic --json is the composed built-in bottle", async () => {
    const where = cliEnv();
    const r = await runCompiled(["bottles", "show", "anthropic", "--json"], where);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(composeBottles(loadCatalog(where), ["anthropic"]));
    expect(JSON.parse(r.stdout).routes).toEqual([{ host: "api.anthropic.com", auth: { header: "x-api-key", env: "ANTHROPIC_API_KEY" } }]);
  });

  test("the tables people read", async () => {
    const where = cliEnv();
    const agents = await runCompiled(["agents"], where);
    expect(agents.stdout).toBe(
      [
        "NAME    PROVIDER  BOTTLE     SOURCE    FILE",
        "claude  claude    anthropic  embedded  embedded:agents/claude.md",
        "codex   codex     openai     embedded  embedded:agents/codex.md",
        "pi      pi        anthropic  embedded  embedded:agents/pi.md",
        "",
      ].join("\n"),
    );
    const bottles = await runCompiled(["bottles"], where);
    expect(bottles.stdout).toBe(
      [
        "NAME       EXTENDS  HOSTS                        SOURCE    FILE",
        "anthropic  -        api.anthropic.com            embedded  embedded:bottles/anthropic.md",
        "openai     -        api.openai.com, chatgpt.com  embedded  embedded:bottles/openai.md",
        "",
      ].join("\n"),
    );
  });
});

describe("the fixture tree: home, cwd and the ignored cwd bottle", () => {
  test("agents --json equals the in-process catalog; warnings go to stderr", async () => {
    const r = await runCompiled(["agents", "--json"], fixture);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(agentRows(loadCatalog(fixture)));
    expect(r.stderr).toContain(`ignored ${join(fixture.cwd, ".bottle/bottles/wide-open.md")}: bottles are read only from ${join(fixture.home, "bottles")}, because a repository must not loosen its own sandbox`);
    expect(r.stderr).toContain("agent orphan");
    const helper = JSON.parse(r.stdout).find((a: { name: string }) => a.name === "helper");
    // The repository's helper.md would switch the host's pi helper to codex in the ci bottle: ignored, and said so.
    expect(helper).toEqual({ name: "helper", provider: "pi", bottle: "tools", model: null, skills: [], source: "home", file: join(fixture.home, "agents/helper.md") });
    expect(r.stderr).toContain(`ignored ${join(fixture.cwd, ".bottle/agents/helper.md")}: it has the name of the host agent helper`);
  });

  test("bottles --json never lists the cwd bottle", async () => {
    const r = await runCompiled(["bottles", "--json"], fixture);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows).toEqual(bottleRows(loadCatalog(fixture)));
    expect(rows.map((b: { name: string }) => b.name)).toEqual(["anthropic", "base", "ci", "openai", "tools", "web"]);
  });

  test("bottles show web anthropic --json composes in order, parents first", async () => {
    const r = await runCompiled(["bottles", "show", "web", "anthropic", "--json"], fixture);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got).toEqual(composeBottles(loadCatalog(fixture), ["web", "anthropic"]));
    expect(got.chain).toEqual(["base", "web", "anthropic"]);
  });

  test("bottles show (text) names every file and the merged values", async () => {
    const r = await runCompiled(["bottles", "show", "ci"], fixture);
    expect(r.code).toBe(0);
    const b = (n: string) => join(fixture.home, "bottles", `${n}.md`);
    expect(r.stdout).toBe(
      [
        "bottles    ci",
        "chain      base → web → tools → ci",
        `files      ${b("base")}`,
        `           ${b("web")}`,
        `           ${b("tools")}`,
        `           ${b("ci")}`,
        "env        BASE=1",
        "           LOG_LEVEL=debug",
        "           GITHUB_TOKEN (asked at launch: Your GitHub token)",
        "           CI=true",
        "egress     api.anthropic.com: metered, x-api-key from $ANTHROPIC_API_KEY",
        "           registry.npmjs.org: tunnelled, not metered",
        '           gateway.corp: metered, to https://gw.corp/openai, authorization from $CORP_KEY (prefix "Bearer "), as codex',
        "           *.github.com: metered",
        "log        full",
        "budget     codex 500,000 tokens (parent web)",
        "           claude 1,000,000 tokens per day (parent base)",
        "shutdown   kill",
        "preflight  provider",
        "backend    prefer docker, workspace copy",
        "",
      ].join("\n"),
    );
  });
});

describe("errors reach the user as one sentence", () => {
  test("an unknown bottle: did-you-mean, exit 1", async () => {
    const r = await runCompiled(["bottles", "show", "tols"], fixture);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toEndWith('error: unknown bottle "tols" — did you mean tools? bottles are the files in $BOTTLE_HOME/bottles plus the built-in ones; `bottle bottles` lists them\n');
  });

  test("an invalid agent file names the file, line, key and fix: a warning for listing, the error for its run", async () => {
    const where = cliEnv();
    mkdirSync(join(where.cwd, ".bottle", "agents"), { recursive: true });
    const file = join(where.cwd, ".bottle", "agents", "reviewer.md");
    writeFileSync(file, "---\nprovider: claude\nbudget:\n  claude: { tokens: 100, per: hour }\n---\n");
    const list = await runCompiled(["agents", "--json"], where);
    expect(list.code).toBe(0);
    expect(list.stderr).toContain(`skipped the agent file ${file}:4: budget.claude.per must be one of day, week, month, not "hour" — use one of: day, week, month.`);
    const run = await runCompiled(["run", "reviewer", "--headless", "--prompt", "x", "--dry-run"], where);
    expect(run.code).toBe(1);
    expect(run.stderr).toEndWith(`error: ${file}:4: budget.claude.per must be one of day, week, month, not "hour" — use one of: day, week, month\n`);
  });

  test("an extends cycle is named", async () => {
    const where = cliEnv();
    cpSync(join(import.meta.dir, "../fixtures/manifest/cycle/home"), where.home, { recursive: true });
    const r = await runCompiled(["bottles", "show", "a"], where);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("bottles extend each other in a cycle: a → b → c → a");
  });

  test("show with no name is a usage error (exit 2)", async () => {
    const r = await runCompiled(["bottles", "show"], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("`bottle bottles show` needs at least one bottle name");
  });
});
