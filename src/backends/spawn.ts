/**
 * Starting the host-side process of a bottle (bwrap, or the docker client) in one of three attach modes.
 * `pty` gives the bottle a pseudo-terminal of its own and relays it to ours: the agent gets a real TTY
 * (colours, raw mode, resize) but never our terminal's file descriptor, so it cannot inject keystrokes into
 * the host shell; its terminal-title sequences are not relayed (the title is the run's label, see
 * title-filter.ts). `output` hands over our stdout and stderr with /dev/null as stdin (headless runs, CI:
 * an agent CLI that finds a pipe on stdin waits for its end, and a CI runner's pipe never ends);
 * `inherit` hands over all our stdio (`--stdin`). `capture` collects the output.
 */
import { titleFilter } from "./title-filter.ts";
import type { Attach, ExecResult, RunningProcess } from "./types.ts";

export interface SpawnSpec {
  argv: string[];
  env: Record<string, string>;
  attach: Attach;
  stdin?: string;
  cwd?: string;
  /** Descriptors the child gets as fd 3, 4, … (bwrap reads its options and data files from them). */
  extraFds?: number[];
}

function decode(b: ArrayBuffer | Uint8Array | undefined): string {
  return b ? new TextDecoder().decode(b) : "";
}

function spawnPty(spec: SpawnSpec): RunningProcess {
  const stdin = process.stdin;
  const out = process.stdout;
  // The run's label is the terminal's title; the agent's own title sequences are not relayed.
  const relay = titleFilter();
  const proc = Bun.spawn(spec.argv, {
    env: spec.env,
    cwd: spec.cwd,
    ...(spec.extraFds?.length ? { stdio: ["inherit", "inherit", "inherit", ...spec.extraFds] as const } : {}),
    terminal: {
      cols: out.columns ?? 80,
      rows: out.rows ?? 24,
      name: spec.env.TERM ?? "xterm-256color",
      data: (_t, data) => out.write(relay(data)),
    },
  });
  const term = proc.terminal!;
  const onInput = (chunk: Buffer) => term.write(chunk);
  const onResize = () => term.resize(out.columns ?? 80, out.rows ?? 24);
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on("data", onInput);
  stdin.resume();
  process.on("SIGWINCH", onResize);
  const exited = proc.exited.then((code) => {
    stdin.off("data", onInput);
    process.off("SIGWINCH", onResize);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
    term.close();
    return result(code, proc.signalCode, "", "");
  });
  return { pid: proc.pid, exited, kill: (s) => proc.kill(s) };
}

function result(code: number | null, signal: string | number | null, stdout: string, stderr: string): ExecResult {
  return { exitCode: code ?? 128, ...(signal !== null ? { signal: String(signal) } : {}), stdout, stderr };
}

function extra(spec: SpawnSpec): number[] {
  return spec.extraFds ?? [];
}

export function spawnBottleProcess(spec: SpawnSpec): RunningProcess {
  if (spec.attach === "pty") return spawnPty(spec);
  if (spec.attach === "inherit" || spec.attach === "output") {
    const stdin = spec.attach === "inherit" ? "inherit" : "ignore";
    const proc = Bun.spawn(spec.argv, { env: spec.env, cwd: spec.cwd, stdio: [stdin, "inherit", "inherit", ...extra(spec)] });
    return { pid: proc.pid, exited: proc.exited.then((c) => result(c, proc.signalCode, "", "")), kill: (s) => proc.kill(s) };
  }
  const proc = Bun.spawn(spec.argv, {
    env: spec.env,
    cwd: spec.cwd,
    stdio: [spec.stdin !== undefined ? new TextEncoder().encode(spec.stdin) : "ignore", "pipe", "pipe", ...extra(spec)],
  });
  const exited = Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).arrayBuffer(), proc.exited]).then(
    ([o, e, c]) => result(c, proc.signalCode, decode(o), decode(e)),
  );
  return { pid: proc.pid, exited, kill: (s) => proc.kill(s) };
}
