/**
 * What a benchmarked process costs, read from /proc: CPU time (user + system) and resident memory. CPU is
 * read before and after a cell and the difference divided by the requests it served, so the figure is the
 * proxy's own work per request, whatever else the machine is doing. Linux only; elsewhere it reports NaN.
 */
import { readFileSync } from "node:fs";

const TICKS = (() => {
  try {
    return Number(new TextDecoder().decode(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU milliseconds the process has used so far. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
  } catch {
    return NaN;
  }
}

/** Resident set size in MB. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples RSS every `everyMs` until stopped; returns the peak seen. */
export function rssSampler(pid: number, everyMs = 25): { stop(): number } {
  let peak = rssMb(pid);
  const t = setInterval(() => {
    const r = rssMb(pid);
    if (r > peak || !Number.isFinite(peak)) peak = r;
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, rssMb(pid));
    },
  };
}

/** A process started by a benchmark, with the JSON line it printed when it was ready. */
export interface ReadyProcess {
  pid: number;
  proc: ReturnType<typeof Bun.spawn>;
  info: Record<string, unknown>;
}

/**
 * Starts a process that prints one JSON line on stdout when it is ready (`bottle proxy --json`, the
 * benchmark's upstream and floors) and waits for that line. `track` collects the process so the caller
 * can kill everything it started, by PID, however the benchmark ends.
 */
export async function startReady(cmd: string[], env: Record<string, string>, opts: { stderr?: "inherit" | "ignore"; track?: ReturnType<typeof Bun.spawn>[] } = {}): Promise<ReadyProcess> {
  const proc = Bun.spawn(cmd, { env, stdout: "pipe", stderr: opts.stderr ?? "inherit" });
  opts.track?.push(proc);
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited before it was ready`);
    line += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { pid: proc.pid, proc, info: JSON.parse(line.slice(0, line.indexOf("\n"))) as Record<string, unknown> };
}
