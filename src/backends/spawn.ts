/**
 * Starting the host-side process of a bottle (bwrap, or the docker client) in one of three attach modes.
 * `pty` gives the bottle a pseudo-terminal of its own and relays it to ours: the agent gets a real TTY
 * (colours, raw mode, resize) but never our terminal's file descriptor, so it cannot inject keystrokes into
 * the host shell; its output passes the interactive terminal filter (no titles, clipboard writes or title
 * reports: terminal-filter.ts). `output` gives the bottle /dev/null as stdin (headless runs, CI: an agent
 * CLI that finds a pipe on stdin waits for its end, and a CI runner's pipe never ends); `inherit` hands
 * over our stdin too (`--stdin`). In both, an output stream that is not a terminal (a pipe, a CI log) is
 * handed over as it is, byte for byte; one that is a terminal gets a pipe instead, relayed through the
 * headless terminal filter, and when the bottle's output ends, colours are reset and the cursor shown, on a
 * line of its own, so what bottle prints next cannot be hidden or run into by the agent's output.
 * `capture` collects the output.
 */
import { terminalFilter } from "./terminal-filter.ts";
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
  const relay = terminalFilter("interactive");
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

/** Everything the bottle writes to `from`, through the headless filter, onto the terminal `to`. */
async function relayToTerminal(from: ReadableStream<Uint8Array>, to: NodeJS.WriteStream): Promise<void> {
  const filter = terminalFilter("headless");
  let last = 0x0a;
  let wrote = false;
  try {
    for await (const chunk of from) {
      const out = filter(chunk);
      if (out.length === 0) continue;
      last = out[out.length - 1]!;
      wrote = true;
      to.write(out);
    }
  } finally {
    // SGR reset and cursor shown, then a fresh line: bottle's own lines come next, visible and whole.
    if (wrote) await new Promise<void>((done) => to.write(`\x1b[0m\x1b[?25h${last === 0x0a ? "" : "\n"}`, () => done()));
  }
}

export function spawnBottleProcess(spec: SpawnSpec): RunningProcess {
  if (spec.attach === "pty") return spawnPty(spec);
  if (spec.attach === "inherit" || spec.attach === "output") {
    const stdin = spec.attach === "inherit" ? "inherit" : "ignore";
    const toOut = process.stdout.isTTY ? "pipe" : "inherit";
    const toErr = process.stderr.isTTY ? "pipe" : "inherit";
    const proc = Bun.spawn(spec.argv, { env: spec.env, cwd: spec.cwd, stdio: [stdin, toOut, toErr, ...extra(spec)] });
    const relays = [
      toOut === "pipe" ? relayToTerminal(proc.stdout as ReadableStream<Uint8Array>, process.stdout) : undefined,
      toErr === "pipe" ? relayToTerminal(proc.stderr as ReadableStream<Uint8Array>, process.stderr) : undefined,
    ];
    const exited = Promise.all([proc.exited, ...relays]).then(([c]) => result(c, proc.signalCode, "", ""));
    return { pid: proc.pid, exited, kill: (s) => proc.kill(s) };
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
