/**
 * Freeze, resume and kill act on a real process group standing in for a bottle: the kernel's view of the
 * process (/proc/<pid>/stat) must change, and freeze must leave a snapshot under runs/<id>/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "bun:test";
import { pidAlive, ProcessRunControl } from "../../src/enforce/run-control.ts";
import { runDir } from "../../src/paths.ts";

let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
  child = undefined;
});

function state(pid: number): string {
  // Field 3 of /proc/<pid>/stat, after the parenthesised command name.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await Bun.sleep(10);
}

function startBottle(): number {
  child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
  return child.pid!;
}

describe("ProcessRunControl with a real child process", () => {
  test("freeze writes a snapshot and stops the process group; resume continues it", async () => {
    const pid = startBottle();
    const control = new ProcessRunControl((id) => (id === "run-a" ? pid : undefined));
    await control.freeze("run-a", "claude budget exhausted");
    await until(() => state(pid) === "T");
    expect(state(pid)).toBe("T");
    const snap = JSON.parse(readFileSync(join(runDir("run-a"), "frozen.json"), "utf8"));
    expect(snap).toMatchObject({ runId: "run-a", pid, reason: "claude budget exhausted" });
    await control.resume("run-a");
    await until(() => state(pid) !== "T");
    expect(state(pid)).not.toBe("T");
  });

  test("kill tears the process down", async () => {
    const pid = startBottle();
    const exited = new Promise<string | null>((r) => child!.once("exit", (_c, sig) => r(sig)));
    await new ProcessRunControl(() => pid).kill("run-b", "budget");
    expect(await exited).toBe("SIGKILL");
    expect(pidAlive(pid)).toBe(false);
    expect(existsSync(join(runDir("run-b"), "frozen.json"))).toBe(false);
  });

  test("a run without a live process is a typed error, not a silent no-op", async () => {
    await expect(new ProcessRunControl(() => undefined).freeze("gone", "x")).rejects.toThrow(/has no live process/);
  });
});
