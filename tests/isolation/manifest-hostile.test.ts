/**
 * Hostile manifests (DESIGN §6a.5: the kill switch always works). A repository can carry anything in
 * ./.bottle/agents, and an agent in a bind-mode bottle can write there: a YAML alias bomb, a file far too
 * big to parse, a dangling symlink, a badly named file, broken YAML, a fifo (whose plain open would block
 * every command that lists agents). Each is a warning that names the file;
 * only a command that needs that agent fails, with an error naming the file (and the limit it broke), and
 * `bottle dashboard`, `bottle budget show/cutoff/restore`, `bottle stop` and runs of other agents keep
 * working. Every YAML file bottle reads (settings, agents, bottles) has a size and an alias limit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { killStandins, startStandin } from "../support/standin.ts";
import { echoProxy, planFor } from "../helpers/bottles.ts";
import { freshHome, runCli, runCliJson } from "../support/cli.ts";

/** A billion-laughs document: ten levels of ten aliases each. */
function aliasBomb(): string {
  const lines = ["---", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(",")}]`);
  lines.push("provider: claude", "---", "");
  return lines.join("\n");
}

function hugeAgent(): string {
  return `---\nprovider: claude\n---\n${"x".repeat(2 * 1024 * 1024)}\n`;
}

/** A project whose ./.bottle/agents holds one of each broken file, next to a good agent of its own. */
function hostileProject(): string {
  const cwd = mkdtempSync(join(process.env.TMPDIR!, "hostile-"));
  const dir = join(cwd, ".bottle", "agents");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "bomb.md"), aliasBomb());
  writeFileSync(join(dir, "huge.md"), hugeAgent());
  symlinkSync(join(cwd, "nowhere.md"), join(dir, "dangling.md"));
  writeFileSync(join(dir, "Bad_Name.md"), "---\nprovider: claude\n---\n");
  writeFileSync(join(dir, "broken.md"), "---\nprovider: [claude\n---\n");
  expect(Bun.spawnSync(["mkfifo", join(dir, "pipe.md")]).exitCode).toBe(0);
  writeFileSync(join(dir, "helper.md"), "---\nprovider: claude\nbottle: anthropic\n---\nA helper.\n");
  return cwd;
}

/** The placeholder key a dry run of a keyed route checks for (never sent anywhere). */
const KEY: Record<string, string> = { ANTHROPIC_API_KEY: "sk-ant-test-placeholder", PATH: `${AGENTS_BIN}:${process.env.PATH}` };

const BROKEN = ["bomb.md", "huge.md", "dangling.md", "Bad_Name.md", "broken.md", "pipe.md"];

describe("a broken file in ./.bottle/agents is a warning, and only its own agent fails", () => {
  let home: string;
  let cwd: string;
  beforeAll(async () => {
    home = freshHome();
    cwd = hostileProject();
  });
  afterAll(() => killStandins());

  test("bottle agents lists the good agents and warns about each broken file by name", async () => {
    const r = await runCli(["agents", "--json"], { home, cwd });
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as { name: string }[]).map((a) => a.name);
    expect(names).toContain("helper");
    expect(names).toContain("claude");
    for (const f of BROKEN) expect(r.stderr).toContain(join(cwd, ".bottle", "agents", f));
    expect(r.stderr).toMatch(/alias/);
    expect(r.stderr).toMatch(/1 MiB/);
  });

  test("the kill switch works: dashboard, budget show, cutoff, restore and stop act on a live run", async () => {
    await startStandin(join(home, "bottle.db"), "r-live", "claude");
    const dash = await runCliJson<{ runs: { runId: string }[] }>(["dashboard"], { home, cwd });
    expect(dash.runs.map((r) => r.runId)).toContain("r-live");
    await runCliJson(["budget", "show"], { home, cwd });
    expect(await runCliJson(["budget", "cutoff", "r-live"], { home, cwd })).toMatchObject({ runId: "r-live", result: "done" });
    expect(await runCliJson(["budget", "restore", "r-live"], { home, cwd })).toMatchObject({ runId: "r-live", result: "done" });
    expect(await runCliJson(["stop", "r-live"], { home, cwd })).toMatchObject({ runId: "r-live" });
  });

  test("a run of another agent plans; a run of a broken one fails naming its file and the limit", async () => {
    const ok = await runCli(["run", "helper", "--headless", "--prompt", "hi", "--dry-run", "--backend", "sandbox"], { home, cwd, env: KEY });
    expect(ok.stdout + ok.stderr).toContain(join(cwd, ".bottle", "agents", "bomb.md"));
    expect(ok.code).toBe(0);
    const bomb = await runCli(["run", "bomb", "--headless", "--prompt", "hi", "--dry-run", "--backend", "sandbox"], { home, cwd, env: KEY });
    expect(bomb.code).not.toBe(0);
    expect(bomb.stderr).toContain(join(cwd, ".bottle", "agents", "bomb.md"));
    expect(bomb.stderr).toMatch(/alias/);
    expect(bomb.stderr).not.toMatch(/unexpected|report it/i);
    const huge = await runCli(["run", "huge", "--headless", "--prompt", "hi", "--dry-run", "--backend", "sandbox"], { home, cwd, env: KEY });
    expect(huge.code).not.toBe(0);
    expect(huge.stderr).toContain(join(cwd, ".bottle", "agents", "huge.md"));
    expect(huge.stderr).toMatch(/1 MiB/);
    const broken = await runCli(["run", "broken", "--headless", "--prompt", "hi", "--dry-run", "--backend", "sandbox"], { home, cwd, env: KEY });
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain(join(cwd, ".bottle", "agents", "broken.md"));
  });
});

describe("every YAML file bottle reads has a size and an alias limit", () => {
  test("settings.yml: an alias bomb and an oversized file are errors naming the file and the limit", async () => {
    const home = freshHome();
    writeFileSync(join(home, "settings.yml"), aliasBomb().replace(/^---\n/, "").replace(/provider: claude\n---\n/, ""));
    const bomb = await runCli(["budget", "show"], { home });
    expect(bomb.code).not.toBe(0);
    expect(bomb.stderr).toContain(join(home, "settings.yml"));
    expect(bomb.stderr).toMatch(/alias/);
    expect(bomb.stderr).not.toMatch(/unexpected|report it/i);
    writeFileSync(join(home, "settings.yml"), `shutdown: cutoff\n#${"x".repeat(2 * 1024 * 1024)}\n`);
    const big = await runCli(["budget", "show"], { home });
    expect(big.code).not.toBe(0);
    expect(big.stderr).toContain(join(home, "settings.yml"));
    expect(big.stderr).toMatch(/1 MiB/);
  });

  test("a bottle in $BOTTLE_HOME/bottles over the alias limit is an error naming it", async () => {
    const home = freshHome();
    mkdirSync(join(home, "bottles"), { recursive: true });
    writeFileSync(join(home, "bottles", "boom.md"), aliasBomb().replace("provider: claude\n", ""));
    const r = await runCli(["bottles", "--json"], { home });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(join(home, "bottles", "boom.md"));
    expect(r.stderr).toMatch(/alias/);
  });
});

describe("planted from inside a real bottle", () => {
  test("an agent that writes a dangling symlink and an alias bomb into ./.bottle/agents blocks nothing on the host", async () => {
    const home = freshHome();
    const cwd = mkdtempSync(join(process.env.TMPDIR!, "planted-"));
    const proxy = echoProxy();
    const backend = new SandboxBackend({ home });
    const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd }));
    try {
      const plant = `const fs = require("fs"); fs.mkdirSync(".bottle/agents", { recursive: true }); fs.symlinkSync("/nowhere", ".bottle/agents/gone.md"); fs.writeFileSync(".bottle/agents/bomb.md", ${JSON.stringify(aliasBomb())});`;
      await backend.provision(h, [process.execPath, "-e", plant]);
    } finally {
      await backend.teardown(h);
      proxy.stop();
    }
    const dash = await runCli(["dashboard", "--json"], { home, cwd });
    expect(dash.stderr).not.toMatch(/unexpected|report it/i);
    expect(dash.code).toBe(0);
    expect((await runCli(["budget", "show", "--json"], { home, cwd })).code).toBe(0);
  });
});
