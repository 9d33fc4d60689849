/**
 * A bottle's `egress:` block: `routes` (the allowlist) and `log` (blocks | full). Each route's fields are
 * checked at load with the file and line: `host` is a host name or `*.domain` (never a URL or a path),
 * `mitm` a boolean, `upstream` an http(s) base URL, `auth` a {header, env, prefix} for secret custody and
 * `provider` a known provider. The rules the proxy applies again at launch (routeShapeProblem) are shared
 * with it, not repeated.
 */
import { normalizeHost } from "../proxy/routes.ts";
import { routeShapeProblem } from "../proxy/validate-routes.ts";
import { describe, keyName, type Checker } from "./check.ts";
import { ENV_NAME } from "./env.ts";
import type { KeyPath } from "./frontmatter.ts";
import { EGRESS_LOG_LEVELS, PROVIDERS, type Egress, type Route, type RouteAuth } from "./types.ts";

const ROUTE_KEYS = ["host", "mitm", "upstream", "auth", "provider", "unmetered"] as const;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const HEADER = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** `api.example.com`, `*.example.com`, `localhost`, an IPv4 address or a bracketed IPv6 one. */
export function isHostPattern(host: string): boolean {
  const h = normalizeHost(host);
  if (h.includes(":")) return /^[0-9a-f:.]+$/.test(h) && host.trim().startsWith("[");
  const labels = (h.startsWith("*.") ? h.slice(2) : h).split(".");
  return h.length <= 253 && labels.every((l) => LABEL.test(l));
}

function checkAuth(c: Checker, v: unknown, path: KeyPath): RouteAuth {
  const m = c.mapping(v, path, ["header", "env", "prefix"]);
  const header = c.string(m.header, [...path, "header"], "header: x-api-key");
  if (!HEADER.test(header)) c.fail([...path, "header"], `${keyName([...path, "header"])} ${JSON.stringify(header)} is not an HTTP header name`, "use a header name such as x-api-key or authorization");
  const env = c.string(m.env, [...path, "env"], "env: ANTHROPIC_API_KEY");
  if (!ENV_NAME.test(env)) c.fail([...path, "env"], `${keyName([...path, "env"])} ${JSON.stringify(env)} is not an environment variable name`, "name the host variable that holds the secret, e.g. ANTHROPIC_API_KEY");
  const auth: RouteAuth = { header, env };
  if (m.prefix !== undefined) {
    if (typeof m.prefix !== "string") c.fail([...path, "prefix"], `${keyName([...path, "prefix"])} must be a string, not ${describe(m.prefix)}`, 'quote it: prefix: "Bearer "');
    auth.prefix = m.prefix;
  }
  return auth;
}

/** `unmetered: ["/v1/files"]`: absolute paths, no query, no dot segments. */
function checkUnmetered(c: Checker, v: unknown, path: KeyPath): string[] {
  const fix = 'list absolute paths, e.g. unmetered: ["/v1/files"]';
  if (!Array.isArray(v)) c.fail(path, `${keyName(path)} must be a list of paths, not ${describe(v)}`, fix);
  return v.map((p, i) => {
    const at = [...path, i];
    if (typeof p !== "string" || !p.startsWith("/") || /[?#\\]|(^|\/)\.\.?(\/|$)|%/.test(p)) c.fail(at, `${keyName(at)} ${JSON.stringify(p)} is not an absolute path`, fix);
    return p as string;
  });
}

function checkRoute(c: Checker, v: unknown, path: KeyPath): Route {
  const m = c.mapping(v, path, ROUTE_KEYS);
  if (m.host === undefined) c.fail(path, `${keyName(path)} has no host`, "add host: api.example.com (or *.example.com for its subdomains)");
  const host = c.string(m.host, [...path, "host"], "host: api.example.com");
  if (!isHostPattern(host)) c.fail([...path, "host"], `${keyName([...path, "host"])} ${JSON.stringify(host)} is not a host name`, "write only the host, e.g. api.example.com or *.example.com (no scheme, port or path; use upstream: for a URL)");
  const route: Route = { host: normalizeHost(host) };
  if (m.mitm !== undefined) route.mitm = c.boolean(m.mitm, [...path, "mitm"]);
  if (m.upstream !== undefined) route.upstream = c.string(m.upstream, [...path, "upstream"], "upstream: https://gateway.example.com/anthropic");
  if (m.auth !== undefined) route.auth = checkAuth(c, m.auth, [...path, "auth"]);
  if (m.provider !== undefined) route.provider = c.oneOf(m.provider, [...path, "provider"], PROVIDERS);
  if (m.unmetered !== undefined) route.unmetered = checkUnmetered(c, m.unmetered, [...path, "unmetered"]);
  const problem = routeShapeProblem(route);
  if (problem) c.fail([...path, problem.field], problem.message, problem.fix);
  return route;
}

export function checkEgress(c: Checker, v: unknown): Egress {
  if (v === null || v === undefined) return { routes: [] };
  const m = c.mapping(v, ["egress"], ["routes", "log"]);
  const egress: Egress = { routes: [] };
  if (m.routes !== undefined && m.routes !== null) {
    if (!Array.isArray(m.routes)) c.fail(["egress", "routes"], `egress.routes must be a list, not ${describe(m.routes)}`, "write each route as a list item: - host: api.example.com");
    egress.routes = m.routes.map((r, i) => checkRoute(c, r, ["egress", "routes", i]));
  }
  if (m.log !== undefined) egress.log = c.oneOf(m.log, ["egress", "log"], EGRESS_LOG_LEVELS);
  return egress;
}
