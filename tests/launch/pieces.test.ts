/**
 * The launcher's pure pieces: label uniquification, the run's route list (bottle routes first, the
 * provider's hosts after; the simulator takes every model API host without its key), repeated flags in
 * order, budget parsing, exit codes, the simulator's bounded tool turns, and how the preflight summary shows
 * env prompts before and after they are answered.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { parseBudget } from "../../src/cli/budget-flag.ts";
import { repeatedFlag } from "../../src/cli/repeated-flag.ts";
import { UsageError } from "../../src/errors.ts";
import { uniqueLabel } from "../../src/launch/label.ts";
import { exitCodeFor, stopLine } from "../../src/launch/outcome.ts";
import { runRoutes } from "../../src/launch/routes.ts";
import { routesToSimulator } from "../../src/launch/simulated.ts";
import { EXIT_BUDGET_STOPPED, type RunOutcome } from "../../src/launch/types.ts";
import { startSimulator } from "../../src/simulator/server.ts";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describePlan } from "../../src/launch/describe.ts";
import { resolveLaunch } from "../../src/launch/resolve.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";

describe("uniqueLabel", () => {
  test("keeps a free label, and counts up from -2 past every taken one", () => {
    expect(uniqueLabel("claude", [])).toBe("claude");
    expect(uniqueLabel("claude", ["codex"])).toBe("claude");
    expect(uniqueLabel("claude", ["claude"])).toBe("claude-2");
    expect(uniqueLabel("claude", ["claude", "claude-2", "claude-4"])).toBe("claude-3");
    expect(uniqueLabel("claude", ["claude-2"])).toBe("claude");
  });
});

describe("runRoutes", () => {
  const provider = [{ host: "api.anthropic.com" }, { host: "statsig.anthropic.com" }];
  test("the bottles' routes win (auth, upstream); the provider's fill in what they do not cover", () => {
    const bottle = [{ host: "api.anthropic.com", auth: { header: "x-api-key", env: "K" } }, { host: "registry.npmjs.org" }];
    expect(runRoutes(bottle, provider)).toEqual([...bottle, { host: "statsig.anthropic.com" }]);
  });
  test("a wildcard bottle route covers the provider's subdomain hosts", () => {
    expect(runRoutes([{ host: "*.anthropic.com" }], provider)).toEqual([{ host: "*.anthropic.com" }]);
  });
  test("simulated: every model API host goes to the simulator without its key; other routes are untouched", () => {
    const routes = [{ host: "api.anthropic.com", auth: { header: "x-api-key", env: "K" } }, { host: "api.openai.com", upstream: "https://gw.example" }, { host: "registry.npmjs.org" }];
    expect(routesToSimulator(routes, "http://127.0.0.1:9")).toEqual([
      { host: "api.anthropic.com", upstream: "http://127.0.0.1:9" },
      { host: "api.openai.com", upstream: "http://127.0.0.1:9" },
      { host: "registry.npmjs.org" },
    ]);
  });
});

describe("flags", () => {
  test("repeated --bottle values in order, both spellings, nothing after --", () => {
    expect(repeatedFlag(["claude", "--bottle", "b", "--headless", "--bottle=a", "--bottle", "c", "--", "--bottle", "z"], "bottle")).toEqual(["b", "a", "c"]);
    expect(repeatedFlag(["--bottles", "x", "--bottle-x=y"], "bottle")).toEqual([]);
  });
  test("--budget takes whole positive numbers, with _ or , as separators", () => {
    expect(parseBudget("50000")).toBe(50000);
    expect(parseBudget("5_000_000")).toBe(5_000_000);
    expect(parseBudget("1,000")).toBe(1000);
    expect(parseBudget(undefined)).toBeUndefined();
    for (const bad of ["0", "-3", "1.5", "lots", ""]) expect(() => parseBudget(bad)).toThrow(UsageError);
  });
  test("--budget refuses hex, octal, binary and exponent forms (Number() would read 0x10 as 16)", () => {
    for (const bad of ["0x10", "0X10", "0o17", "0b101", "1e3", "1E3", "+5", "5_", "_5", "1,,000", "Infinity"]) {
      expect(() => parseBudget(bad)).toThrow(/not a positive whole number of tokens/);
    }
    expect(parseBudget("010")).toBe(10);
  });
});

describe("exit codes", () => {
  const base: RunOutcome = { runId: "r1", exitCode: 3, usage: { requests: 2, inputTokens: 50, outputTokens: 24, totalTokens: 74 }, resumeCommand: "bottle resume r1", frozen: false };
  test("the agent's own, unless a budget stopped the run", () => {
    expect(exitCodeFor(base)).toBe(3);
    expect(exitCodeFor({ ...base, exitCode: 0 })).toBe(0);
    const stopped = { ...base, stoppedBy: { scope: "run budget (--budget)", policy: "kill" as const, used: 74, limit: 50, provider: "claude" as const } };
    expect(exitCodeFor(stopped)).toBe(EXIT_BUDGET_STOPPED);
    expect(stopLine(stopped)).toBe("bottle: run r1 was killed by its budget: run budget (--budget): 74 of 50 claude tokens used (exit 75; the agent exited 3)");
    expect(stopLine(base)).toBeUndefined();
  });
});

describe("simulator toolTurns", () => {
  const sim = startSimulator({ toolUse: { name: "Bash", input: { command: "true" } }, toolTurns: 2 });
  afterAll(() => sim.close());
  test("only the first toolTurns generations call the tool; counting endpoints do not count as turns", async () => {
    const ask = async (path: string) => (await (await fetch(`${sim.url}${path}`, { method: "POST", body: JSON.stringify({ model: "m", max_tokens: 5, messages: [] }) })).json()) as { stop_reason?: string };
    const stops = [];
    for (let i = 0; i < 4; i++) {
      await ask("/v1/messages/count_tokens");
      stops.push((await ask("/v1/messages")).stop_reason);
    }
    expect(stops).toEqual(["tool_use", "tool_use", "end_turn", "end_turn"]);
    expect(sim.generations).toBe(4);
  });
});

describe("describePlan env prompts", () => {
  test("a prompt is listed as asked until the wizard has its answer, then as answered (never the value)", async () => {
    const home = mkdtempSync(join(process.env.TMPDIR!, "home-"));
    mkdirSync(join(home, "bottles"));
    writeFileSync(join(home, "bottles", "asks.md"), '---\nextends: [anthropic]\nenv:\n  TICKET: "?Which ticket are you on?"\n---\n');
    const deps = { home, env: { ANTHROPIC_API_KEY: "k", PATH: `${AGENTS_BIN}:${process.env.PATH}` }, activeLabels: async () => [], probe: async () => ({ ok: true as const }) };
    const base = { agent: "claude", bottles: ["asks"], headless: false, backend: "sandbox" as const, cwd: home };
    const before = describePlan(await resolveLaunch(base, deps)).lines.join("\n");
    expect(before).toContain("$TICKET: Which ticket are you on?");
    expect(before).toMatch(/asks\s+\$TICKET/);
    const after = describePlan(await resolveLaunch({ ...base, envAnswers: { TICKET: "SECRET-123" } }, deps)).lines.join("\n");
    expect(after).toMatch(/env\s+\$TICKET: answered/);
    expect(after).not.toMatch(/asks\s+\$TICKET/);
    expect(after).not.toContain("SECRET-123");
  });
});
