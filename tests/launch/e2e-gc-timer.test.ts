/**
 * `bottle run` and its in-bottle bridge (a long-lived Bun process of bottle's) run with Bun's GC timer off,
 * and the agent does not inherit the setting: Claude Code is itself a Bun program, and an agent that idles
 * with its runtime's timer off, or one that a user chose, is not bottle's decision. A real launch (`bottle run
 * … --simulate --backend sandbox`) starts a stand-in agent in a real sandbox bottle; the agent writes out its
 * environment, its parent's pid and command line (the bridge), and which process environments it can read in
 * the bottle and which of them name the variable, then waits for the test. Meanwhile the test reads the
 * environment the `bottle run` process (the pid it spawned: the restart is in place) was started with. The
 * variable is there and in the bridge's, and in no other environment in the bottle.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GC_TIMER_VAR } from "../../src/cli/gc-timer-reexec.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { cliEnv, freshHome, MAIN } from "../support/cli.ts";

setDefaultTimeout(150_000);

// The agent's script names the variable only through a pattern that does not match itself.
const AGENT = `#!/bin/sh
out="$PWD/.seen"
env > "$out.env"
for f in /proc/[0-9]*/environ; do
  if cat "$f" > /dev/null 2>&1; then echo "$f" >> "$out.readable"; fi
done
grep -ls '[B]UN_GC_TIMER_DISABLE=1' /proc/[0-9]*/environ > "$out.hits" 2>/dev/null
echo "$PPID" > "$out.ppid"
cat /proc/$PPID/cmdline > "$out.parent"
echo ready > "$out.ready"
i=0
while [ ! -e "$PWD/.go" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
`;

test("bottle run's own process and its sandbox bottle's bridge have the GC timer off; the agent's environment lacks the setting", async () => {
  const bin = join(freshHome(), "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "claude"), AGENT);
  chmodSync(join(bin, "claude"), 0o755);
  const ws = freshWorkspace();
  const env = cliEnv({ home: freshHome(), env: { PATH: `${bin}:${process.env.PATH}` } });
  const p = Bun.spawn(["bun", MAIN, "run", "claude", "--headless", "--prompt", "look around", "--simulate", "--backend", "sandbox"], { cwd: ws, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
  try {
    const out = Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    while (!existsSync(join(ws, ".seen.ready")) && p.exitCode === null) await Bun.sleep(50);
    expect(p.exitCode).toBeNull();
    const started = readFileSync(`/proc/${p.pid}/environ`, "utf8").split("\0");
    expect(started).toContain(`${GC_TIMER_VAR}=1`);
    writeFileSync(join(ws, ".go"), "");
    const code = await p.exited;
    const [, stderr] = await out;
    if (code !== 0) throw new Error(`bottle run exited ${code}\n${stderr}`);
  } finally {
    clearTimeout(timer);
    if (p.exitCode === null) p.kill("SIGKILL");
  }
  const seen = readFileSync(join(ws, ".seen.env"), "utf8");
  expect(seen).toContain("BOTTLE_RUN_ID="); // positive control: the bottle's own environment
  expect(seen).not.toContain("BUN_GC_");
  // The agent could read its own environment and its parent's (the bridge, a Bun process of bottle's).
  const readable = readFileSync(join(ws, ".seen.readable"), "utf8").trim().split("\n");
  expect(readable.length).toBeGreaterThanOrEqual(2);
  const bridge = readFileSync(join(ws, ".seen.ppid"), "utf8").trim();
  expect(readFileSync(join(ws, ".seen.parent"), "utf8").split("\0")).toContain("__bridge");
  expect(readable).toContain(`/proc/${bridge}/environ`);
  // The one environment in the bottle with the variable is the bridge's; the agent's own (and grep's) are not.
  expect(readFileSync(join(ws, ".seen.hits"), "utf8").trim().split("\n")).toEqual([`/proc/${bridge}/environ`]);
});
