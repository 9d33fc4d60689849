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
