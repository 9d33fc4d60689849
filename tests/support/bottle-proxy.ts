/**
 * The real `bottle proxy` CLI as a separate process (its own ledger connection, writer and budget hooks,
 * exactly as a user starts it), with the built-in simulated provider as its upstream unless `--upstream`
 * is given, and a real HTTP client sending Anthropic streaming requests through it. Every process is
 * killed by PID in `stop()`.
 */
import type { Subprocess } from "bun";
import { join } from "node:path";

export const MAIN = join(import.meta.dir, "../../src/cli/main.ts");

export interface BottleProxy {
  runId: string;
  proxyUrl: string;
  caFile: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the process wrote to stderr so far (its log). */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** What `bottle proxy --json` prints on its first line once it serves: the run and the clients' environment. */
export interface ProxyReady {
  runId: string;
  env: Record<string, string>;
}

/**
 * Reads that first line from a `bottle proxy --json` process. If the process ends first, the error carries
 * what it wrote to stderr (`stderr`, or by default the rest of its stderr stream).
 */
export async function proxyReady(p: Subprocess<"ignore", "pipe", "pipe">, stderr: () => Promise<string> = () => new Response(p.stderr).text()): Promise<ProxyReady> {
  const reader = p.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bottle proxy exited before printing its environment: ${await stderr()}`);
    line += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return JSON.parse(line.slice(0, line.indexOf("\n"))) as ProxyReady;
}

export async function startBottleProxy(home: string, args: string[] = [], env: Record<string, string> = {}): Promise<BottleProxy> {
  const upstream = args.includes("--upstream") ? [] : ["--simulate"];
  const p = Bun.spawn(["bun", MAIN, "proxy", ...upstream, "--provider", "claude", "--json", "--log", "blocks", ...args], {
    env: { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1", TZ: "UTC", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of p.stderr) err += dec.decode(c, { stream: true });
  })().catch(() => undefined);
  const deadline = setTimeout(() => p.kill("SIGKILL"), 30_000);
  const { runId, env: px } = await proxyReady(p, async () => {
    await p.exited;
    return err;
  }).finally(() => clearTimeout(deadline));
  return {
    runId,
    proxyUrl: px.HTTPS_PROXY!,
    caFile: px.SSL_CERT_FILE!,
    proc: p,
    stderr: () => err,
    async stop(signal = "SIGTERM") {
      if (p.exitCode === null) p.kill(signal);
      const t = setTimeout(() => p.kill("SIGKILL"), 15_000);
      const code = await p.exited;
      clearTimeout(t);
      return code;
    },
  };
}

export interface Sent {
  status: number;
  /** The whole stream arrived and ended (message_stop seen and the body closed). */
  complete: boolean;
  headers: Headers;
  body: string;
}

const MESSAGE = JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] });

/** One streaming Messages request through the proxy, read to its end (bounded in time). */
export async function sendMessage(px: Pick<BottleProxy, "proxyUrl" | "caFile">, timeoutMs = 30_000, body = MESSAGE): Promise<Sent> {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "sk-placeholder", "anthropic-version": "2023-06-01" },
    body,
    proxy: px.proxyUrl,
    tls: { ca: await Bun.file(px.caFile).text() },
    signal: AbortSignal.timeout(timeoutMs),
  } as RequestInit);
  let text = "";
  let complete = false;
  try {
    text = await res.text();
    complete = res.status === 200 && text.includes("message_stop");
  } catch {
    complete = false;
  }
  return { status: res.status, complete, headers: res.headers, body: text };
}
