/**
 * The path policy of a metered host: every request to a host whose usage bottle meters is either metered
 * from its own response, a plain read, explicitly opted out by the route (`unmetered:`), or refused. A
 * request that can change state on a path bottle cannot meter (batch submission, file uploads, Anthropic's
 * legacy `/v1/complete`, which reports no usage, and paths nobody has thought of yet) is refused by default,
 * because whatever it spends would never reach a budget. Pure: the enforce hooks apply it.
 *
 * Paths are judged the way the upstream will see them: dot segments are resolved as a URL parser resolves
 * them (so `/v1/batches/../messages` is `/v1/messages`), and a state-changing request whose path hides a
 * separator (`%2f`, `%5c`, a backslash) is refused rather than guessed at.
 *
 * A metered path is judged by its body too (bodyVerdict): a Responses request with `background` set is
 * answered `queued` with no usage and billed later, when the work is fetched with a plain GET the meter
 * never charges, so it is refused; and a generation body that is not a JSON object bottle can read (NaN,
 * trailing garbage) is refused rather than sent up unread.
 */
import { barePath, classifyRoute, isWebSocketUpgrade, METERED_ENDPOINTS, type MeteredRoute } from "./route.ts";

export type PathVerdict =
  | { kind: "metered"; route: MeteredRoute }
  | { kind: "read" }
  | { kind: "unmetered"; rule: string }
  | { kind: "refuse"; reason: string };

const READS = new Set(["GET", "HEAD", "OPTIONS"]);
const HIDDEN_SEPARATOR = /%2f|%5c|\\/i;

/** The path as an upstream resolves it: dot segments removed, query kept. */
export function resolvedPath(path: string): string {
  try {
    const u = new URL(path.startsWith("/") ? path : `/${path}`, "https://path.invalid");
    return `${u.pathname}${u.search}`;
  } catch {
    return path;
  }
}

/** `/v1/files` opts in `/v1/files` and everything under it, never `/v1/filesystem`. */
export function optedIn(rules: readonly string[] | undefined, path: string): string | undefined {
  const p = barePath(path);
  return rules?.find((r) => {
    const rule = barePath(r);
    return p === rule || p.startsWith(rule.endsWith("/") ? rule : `${rule}/`);
  });
}

export interface PathRequest {
  method: string;
  path: string;
  headers?: Headers;
  /** The host as the client named it (for the refusal's message). */
  host: string;
  /** The matched route's host pattern and `unmetered:` list. */
  routeHost: string;
  unmetered?: readonly string[];
}

export function pathVerdict(r: PathRequest): PathVerdict {
  const method = r.method.toUpperCase();
  const path = resolvedPath(r.path);
  if (READS.has(method) && !isWebSocketUpgrade(r.headers)) return { kind: "read" };
  const bare = barePath(path);
  if (HIDDEN_SEPARATOR.test(barePath(r.path))) {
    return { kind: "refuse", reason: `${method} ${barePath(r.path)} on ${r.host} hides a path separator (%2f, %5c or a backslash), so bottle cannot tell which endpoint it reaches; send the plain path` };
  }
  const route = classifyRoute(method, path, r.headers);
  if (route) return { kind: "metered", route };
  const rule = optedIn(r.unmetered, path);
  if (rule) return { kind: "unmetered", rule };
  return {
    kind: "refuse",
    reason: `${method} ${bare} on ${r.host} cannot be metered (bottle reads usage only from ${METERED_ENDPOINTS.map((e) => e.suffix).join(", ")}), so it is refused; to let it through unmetered, add unmetered: ["${bare}"] to the egress route for ${r.routeHost}`,
  };
}

/**
 * Why a metered generation request's body cannot be metered, or undefined when it can. `body` is what the
 * upstream will read (the proxy has decoded any Content-Encoding). Pure.
 */
export function bodyProblem(route: MeteredRoute, method: string, path: string, host: string, body: Uint8Array): string | undefined {
  if (route.kind !== "usage" || route.transport !== "http" || body.byteLength === 0) return undefined;
  const where = `${method.toUpperCase()} ${barePath(resolvedPath(path))} on ${host}`;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    json = undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return `${where} has a body that is not a JSON object bottle can read, so its usage could not be metered; send plain JSON`;
  }
  const background = (json as Record<string, unknown>).background;
  if (route.format === "openai-responses" && background !== undefined && background !== null && background !== false) {
    return `${where} asks for background: ${JSON.stringify(background)}; a background response is billed after the request returns, when its result is fetched, where bottle cannot meter it, so it is refused; send it without background (stream: true streams the same work)`;
  }
  return undefined;
}
