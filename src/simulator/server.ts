/**
 * A simulated model provider: one Bun.serve speaking the Anthropic Messages, OpenAI Chat Completions, legacy
 * Completions, Embeddings and OpenAI Responses wire formats exactly, over plain HTTP or TLS with a given certificate. The README's quick
 * start runs a real agent against it, and tests use it as their fake upstream. Importing it starts nothing.
 *
 * The server has no idle timeout, because a test may hold a stream at a gate for as long as it likes; so a
 * kept-alive connection stays open for good, and while Bun's HTTP server has any connection open it wakes
 * its thread every second (the Date header clock). A `--simulate` run or proxy hosts its simulator in its
 * own process, which would then wake every second for as long as it lives after one request; those start it
 * with `closeConnections`, so every answer ends its connection (`connection: close`): a fresh loopback
 * connection per request costs far less than that. Tests and benchmarks that use it as an upstream keep
 * their connections alive, as a real provider lets them.
 *
 *   const sim = startSimulator({ text: "hi", usage: {...}, chunkDelayMs: 200 });
 *   sim.url            // http://127.0.0.1:<port>
 *   sim.requests       // every request seen: method, path, headers, parsed JSON body
 *   sim.set({ compression: "br" });   // change behaviour between requests
 *   await sim.close();
 */
import { anthropicCountTokens, anthropicMessages } from "./anthropic.ts";
import { chatCompletions } from "./openai-chat.ts";
import { completions, embeddings } from "./openai-legacy.ts";
import { codexModels } from "./codex-backend.ts";
import { responses, responsesInputTokens, retrieveResponse } from "./openai-responses.ts";
import { decodeBody } from "./request-encoding.ts";
import { DEFAULT_SIM_OPTIONS, type SimUsage, type SimulatorOptions } from "./options.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface StartSimulatorOptions extends Partial<Omit<SimulatorOptions, "usage">> {
  usage?: Partial<SimUsage>;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  hostname?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** End every connection once its answer is sent (a long-lived host of the simulator: the docblock says why). */
  closeConnections?: boolean;
}

export interface Simulator {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** How many generation requests (messages, chat completions, responses) were answered. */
  generations: number;
  options: SimulatorOptions;
  set(patch: Partial<Omit<SimulatorOptions, "usage">> & { usage?: Partial<SimUsage> }): void;
  close(): Promise<void>;
}

function merge(base: SimulatorOptions, patch: Partial<Omit<SimulatorOptions, "usage">> & { usage?: Partial<SimUsage> }): SimulatorOptions {
  const { usage, ...rest } = patch;
  return { ...base, ...rest, usage: { ...base.usage, ...usage } } as SimulatorOptions;
}

function notFound(path: string): Response {
  return Response.json({ type: "error", error: { type: "not_found_error", message: `simulator: no route for ${path}` } }, { status: 404 });
}

const GENERATION = /(\/v1\/messages|\/v1\/chat\/completions|\/v1\/responses|\/backend-api\/codex\/responses)$/;

function isGeneration(method: string, path: string): boolean {
  return method === "POST" && GENERATION.test(path.split("?")[0]!.replace(/\/+$/, ""));
}

/** The options for the `n`th generation (1-based): past `toolTurns`, no tool call. */
function forTurn(o: SimulatorOptions, n: number): SimulatorOptions {
  return o.toolUse && o.toolTurns !== undefined && n > o.toolTurns ? { ...o, toolUse: undefined } : o;
}

export function simulate(o: SimulatorOptions, method: string, path: string, body: Record<string, unknown>): Response {
  const p = path.split("?")[0]!.replace(/\/+$/, "");
  if (method === "GET" && p.endsWith("/backend-api/codex/models")) return codexModels(o);
  const stored = method === "GET" ? /\/v1\/responses\/(resp_[^/]+)$/.exec(p) : null;
  if (stored) return retrieveResponse(stored[1]!) ?? notFound(p);
  if (method !== "POST") return notFound(p);
  if (p.endsWith("/v1/messages")) return anthropicMessages(o, body);
  if (p.endsWith("/v1/messages/count_tokens")) return anthropicCountTokens(o);
  if (p.endsWith("/v1/chat/completions")) return chatCompletions(o, body);
  if (p.endsWith("/v1/completions")) return completions(o, body);
  if (p.endsWith("/v1/embeddings")) return embeddings(o, body);
  if (p.endsWith("/v1/responses") || p.endsWith("/backend-api/codex/responses")) return responses(o, body);
  if (p.endsWith("/v1/responses/input_tokens")) return responsesInputTokens(o);
  return notFound(p);
}


export function startSimulator(opts: StartSimulatorOptions = {}): Simulator {
  const { tls, hostname, port, closeConnections, ...behaviour } = opts;
  const closing = (res: Response): Response => {
    if (closeConnections) res.headers.set("connection", "close");
    return res;
  };
  const sim: Simulator = {
    url: "",
    port: 0,
    requests: [],
    generations: 0,
    options: merge(DEFAULT_SIM_OPTIONS, behaviour),
    set(patch) {
      sim.options = merge(sim.options, patch);
    },
    async close() {
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    hostname: hostname ?? "127.0.0.1",
    port: port ?? 0,
    ...(tls ? { tls } : {}),
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      let body: Record<string, unknown> = {};
      try {
        const text = decodeBody(new Uint8Array(await req.arrayBuffer()), req.headers.get("content-encoding"));
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        return closing(Response.json({ type: "error", error: { type: "invalid_request_error", message: "body is not JSON" } }, { status: 400 }));
      }
      sim.requests.push({ method: req.method, path: `${url.pathname}${url.search}`, headers: Object.fromEntries(req.headers), body });
      if (!isGeneration(req.method, url.pathname)) return closing(simulate(sim.options, req.method, url.pathname, body));
      sim.generations += 1;
      return closing(simulate(forTurn(sim.options, sim.generations), req.method, url.pathname, body));
    },
  });
  sim.port = server.port!;
  sim.url = `${tls ? "https" : "http"}://${hostname ?? "127.0.0.1"}:${server.port}`;
  return sim;
}
