/**
 * Starting and cleaning up tests/support/standin-run.ts from a test: spawn, wait for its ready line, and
 * kill whatever is left (the stand-in and its bottle's process group) by pid.
 */
import type { Subprocess } from "bun";
import { pidAlive } from "../../src/enforce/run-control.ts";

export interface Standin {
  proc: Subprocess;
  runId: string;
  pid: number;
  bottlePid: number;
}

const live: Standin[] = [];

/** `sandboxHome`: the stand-in's bottle is a real sandbox bottle under that BOTTLE_HOME. */
export async function startStandin(ledger: string, runId: string, agent = "standin", bottles: string[] = [], sandboxHome?: string): Promise<Standin> {
  const env = { ...process.env, ...(sandboxHome ? { STANDIN_BACKEND: "sandbox", STANDIN_HOME: sandboxHome } : {}) };
  const proc = Bun.spawn(["bun", "tests/support/standin-run.ts", ledger, runId, agent, ...bottles], { stdout: "pipe", stderr: "inherit", env });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stand-in for ${runId} ended before it was ready`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const ready = JSON.parse(text.slice(0, text.indexOf("\n"))) as { pid: number; bottlePid: number };
  const s: Standin = { proc, runId, pid: ready.pid, bottlePid: ready.bottlePid };
  live.push(s);
  return s;
}

/** Kills every stand-in (and its bottle group) that a test left running. */
export function killStandins(): void {
  for (const s of live.splice(0)) {
    for (const [pid, group] of [[s.bottlePid, true], [s.pid, false]] as const) {
      if (!pidAlive(pid)) continue;
      try {
        process.kill(group ? -pid : pid, "SIGKILL");
      } catch {
        /* gone meanwhile */
      }
    }
  }
}
