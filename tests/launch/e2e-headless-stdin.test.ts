/**
 * A headless run's stdin. bottle is often started with a pipe on stdin that never closes (a CI runner, `ssh
 * host bottle run …`, a parent that spawned it with stdin "pipe"). Codex and pi wait for the end of a piped
 * stdin before they start, so the run used to hang for ever; Claude Code waited 3 s and warned. Now a
 * headless agent's stdin is /dev/null, `--prompt -` reads the prompt from bottle's stdin, and `--stdin`
 * hands bottle's stdin to the agent. Each case runs the real agent CLI in a real sandbox bottle against the
 * simulated provider, with bottle spawned the way such a parent spawns it; every process is killed at the
 * time limit, which fails the test.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { SIMULATED_REPLY } from "../../src/launch/simulated.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { cliEnv, freshHome, MAIN, runCli, type CliOptions } from "../support/cli.ts";

setDefaultTimeout(200_000);

const started: { kill(signal?: number | NodeJS.Signals): void; exitCode: number | null }[] = [];
afterAll(() => {
  for (const p of started) if (p.exitCode === null) p.kill("SIGKILL");
});

function opts(stdin: CliOptions["stdin"]): CliOptions {
  return { home: freshHome(), cwd: freshWorkspace(), env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 150_000, stdin };
}

const headless = (agent: string, prompt: string, ...more: string[]) => ["run", agent, "--headless", "--prompt", prompt, "--simulate", "--backend", "sandbox", ...more];

/** The prompt a run's provenance record holds (its path is printed when the run ends). */
function recordedPrompt(stderr: string): string {
  const path = /provenance record (\S+\.json)/.exec(stderr)?.[1];
  if (!path) throw new Error(`no provenance record named in:\n${stderr}`);
  return (JSON.parse(readFileSync(path, "utf8")) as { record: { prompt: { text: string } } }).record.prompt.text;
}

describe("stdin is a pipe nobody ever closes", () => {
  for (const agent of ["codex", "pi", "claude"]) {
    test(`${agent} finishes: its stdin is /dev/null, not bottle's pipe`, async () => {
      const r = await runCli(headless(agent, "Say hello."), opts("silent"));
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(SIMULATED_REPLY);
      expect(r.stderr).toContain("4 metered requests");
      // Claude Code's words when it finds a pipe with nothing in it (it gives up after 3 s): it saw none.
      expect(r.stderr).not.toContain("no stdin data received");
    });
  }
});

describe("--prompt - reads the prompt from stdin", () => {
  test("the piped text (one trailing newline dropped) is the run's prompt, and the agent finishes", async () => {
    const prompt = "Say hello.\nThe prompt came through stdin: MARKER-STDIN-PROMPT-41c2";
    const r = await runCli(headless("pi", "-"), opts({ text: `${prompt}\n` }));
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(SIMULATED_REPLY);
    expect(recordedPrompt(r.stderr)).toBe(prompt);
  });

  test("an empty stdin is an error that says how to give the prompt; nothing starts", async () => {
    const r = await runCli(headless("pi", "-"), opts({ text: "\n" }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--prompt - read an empty prompt from stdin");
    expect(r.stderr).toContain("--headless --prompt -");
    expect(r.stderr).not.toContain("SIMULATED provider");
  });

  test("--prompt - with --stdin, and --stdin without --headless, are errors naming the flags", async () => {
    const both = await runCli(headless("pi", "-", "--stdin"), opts({ text: "hello" }));
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--prompt - and --stdin both want bottle's stdin");
    const attached = await runCli(["run", "pi", "--stdin", "--simulate", "--backend", "sandbox"], opts("closed"));
    expect(attached.code).toBe(2);
    expect(attached.stderr).toContain("--stdin goes with --headless");
  });
});

describe("--stdin hands bottle's stdin to the agent", () => {
  test("codex reads the pipe to its end: what was written reaches its prompt, and the run finishes", async () => {
    const o = opts("silent");
    const proc = Bun.spawn(["bun", MAIN, ...headless("codex", "Summarise the input.", "--stdin")], {
      cwd: o.cwd,
      env: cliEnv(o),
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    started.push(proc);
    const limit = setTimeout(() => proc.kill("SIGKILL"), 150_000);
    try {
      // Codex says it is reading stdin (it waits for the end of a pipe; with /dev/null that end comes at once)…
      const reader = proc.stderr.getReader();
      let stderr = "";
      while (!stderr.includes("Reading additional input from stdin")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`bottle ended before codex read stdin:\n${stderr}`);
        stderr += new TextDecoder().decode(value);
      }
      expect(proc.exitCode).toBeNull();
      // …and runs once the input ends, with that input after the prompt (codex echoes the user turn).
      proc.stdin.write("Some text for codex to read: MARKER-STDIN-PASSED-9d0e\n");
      await proc.stdin.end();
      const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += new TextDecoder().decode(value);
      }
      expect(code).toBe(0);
      expect(stderr).toMatch(/user\nSummarise the input\.\s[\s\S]*MARKER-STDIN-PASSED-9d0e/);
      expect(stdout).toContain(SIMULATED_REPLY);
      expect(stderr).toContain("4 metered requests");
    } finally {
      clearTimeout(limit);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });
});

describe("bottle resume", () => {
  test("--prompt - reads the next prompt from stdin, and a run's --stdin is not carried into the run that continues it", async () => {
    const o = opts({ text: "Some text for pi to read.\n" });
    const first = await runCli(headless("pi", "Summarise the input.", "--stdin"), o);
    expect(first.timedOut).toBe(false);
    expect(first.code).toBe(0);
    const runId = /bottle resume (\S+)/.exec(first.stderr)![1]!;

    const next = await runCli(["resume", runId, "--headless", "--prompt", "-"], { ...o, stdin: { text: "Continue. MARKER-RESUME-PROMPT-77e3\n" } });
    expect(next.timedOut).toBe(false);
    expect(next.code).toBe(0);
    expect(recordedPrompt(next.stderr)).toBe("Continue. MARKER-RESUME-PROMPT-77e3");

    // The run being continued had --stdin; this resume does not, so a pipe nobody closes cannot hold pi.
    const again = await runCli(["resume", runId, "--headless", "--prompt", "Once more."], { ...o, stdin: "silent" });
    expect(again.timedOut).toBe(false);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(SIMULATED_REPLY);
  });
});
