/**
 * What a benchmarked process costs, read from /proc: CPU time (user + system) and resident memory. CPU is
 * read before and after a cell and the difference divided by the requests it served, so the figure is the
 * proxy's own work per request, whatever else the machine is doing. Linux only; elsewhere it reports NaN.
 */
import { readdirSync, readFileSync } from "node:fs";

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

/**
 * CPU milliseconds, to the nanosecond, of each live thread of a process: `se.sum_exec_runtime` of
 * /proc/<pid>/task/<tid>/sched. The budget benchmark's /proc/<pid>/stat counts 10 ms ticks, one tick in 30 s
 * being 0.033 %, too coarse for a goal of 0.05 % (schedstat reads 0 on this kernel). Threads come and go (Bun's
 * pool threads exit when idle), so a window's CPU is the sum of each thread's growth (a thread born in the
 * window counts from zero); what a thread ran between the first reading and its exit is lost, so this
 * undercounts by that much, while the ticks figure beside it does not. Keys are "<tid> <thread name>", so the
 * growth can also be told by thread (the name is the first line of sched: "bun (123, #threads: 9)").
 */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/sched`, "utf8");
      const m = /se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(text);
      const name = /^(.*?) \(\d+, #threads/.exec(text)?.[1] ?? "?";
      if (m) out.set(`${tid} ${name}`, Number(m[1]));
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return out;
}

/** A window's CPU, ms: the growth of each thread's reading (a thread born in the window counts from zero). */
export function grown(from: Map<string, number>, to: Map<string, number>): number {
  let ms = 0;
  for (const [tid, v] of to) ms += v - (from.get(tid) ?? 0);
  return ms;
}


/**
 * Context switches (voluntary and not) of each live thread so far, keyed like threadCpuMs: each wake of a
 * thread is one. A window's count is `grown` of two readings (threads come and go, so a total would not do).
 */
export function contextSwitches(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      let n = 0;
      for (const m of readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8").matchAll(/ctxt_switches:\s+(\d+)/g)) n += Number(m[1]);
      out.set(tid, n);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return out;
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

/** A reader of a process's stdout, one line per call; throws when the process ends before the next line. */
export function stdoutLines(p: ReturnType<typeof Bun.spawn>): () => Promise<string> {
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  let buf = "";
  return async () => {
    while (!buf.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error("a benchmark process exited early");
      buf += new TextDecoder().decode(value);
    }
    const i = buf.indexOf("\n");
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return l;
  };
}
