/**
 * A bottle state record whose tracked process is alive (a `sleep` the test owns and kills), which every
 * backend listing — and so `bottle ps` and label uniquification — reports as running.
 */
import { join } from "node:path";
import { track, writeRecord } from "../../src/backends/state.ts";
import type { BottleHandle } from "../../src/backends/types.ts";

export interface LiveBottle {
  kill(): void;
}

export function liveBottle(home: string, runId: string, label: string): LiveBottle {
  const p = Bun.spawn(["sleep", "300"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const handle = {
    runId,
    backend: "sandbox",
    plan: { runId, label, agent: "claude", provider: "claude", cwd: "/tmp", workspace: "bind", proxySocket: "/nonexistent", env: {} },
    hostHome: join(home, "runs", runId, "home"),
    hostWorkspace: "/tmp",
    workspace: "/tmp",
  } satisfies BottleHandle;
  writeRecord({ version: 1, handle, createdAt: Date.now(), processes: [track(p.pid)] }, home);
  return { kill: () => p.kill("SIGKILL") };
}
