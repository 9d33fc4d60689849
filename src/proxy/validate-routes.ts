/**
 * Checks a run's routes before its listeners open, so a route that cannot work fails the launch with a
 * clear error instead of failing requests later: an `auth:` secret missing from the host environment, an
 * `upstream:` that is not an http(s) base URL, or a known model API host marked `mitm: false` (which would
 * let the agent spend tokens unmetered). Returns the resolved secrets keyed by route. The static part of
 * those rules (routeShapeProblem) is shared with the manifest loader, which applies it at load time with
 * the file and line.
 */
import { ProxyError } from "../errors.ts";
import type { Route } from "../manifest/types.ts";
import { resolveAuth, type InjectedAuth } from "./headers.ts";
import { providerForHost } from "./routes.ts";

/** A rule a route breaks whatever the host environment: which field, why, and the fix. */
export interface RouteProblem {
  field: "mitm" | "upstream";
  message: string;
  fix: string;
}

export function isHttpBaseUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && !u.search && !u.hash;
  } catch {
    return false;
  }
}

/** The environment-independent checks: metered hosts cannot be tunnelled, upstreams are http(s) base URLs. */
export function routeShapeProblem(r: Pick<Route, "host" | "mitm" | "upstream">): RouteProblem | undefined {
  if (r.mitm === false && providerForHost(r.host)) {
    return { field: "mitm", message: `route ${r.host} sets mitm: false, but it is a model API host that bottle must meter`, fix: "remove `mitm: false` from this route" };
  }
  if (r.upstream !== undefined && !isHttpBaseUrl(r.upstream)) {
    return {
      field: "upstream",
      message: `route ${r.host} has an invalid upstream ${JSON.stringify(r.upstream)}`,
      fix: "use an http:// or https:// base URL such as https://gateway.example.com/anthropic",
    };
  }
  return undefined;
}

export function validateRoutes(routes: readonly Route[], env: Record<string, string | undefined>): Map<Route, InjectedAuth> {
  const auth = new Map<Route, InjectedAuth>();
  routes.forEach((r, i) => {
    const key = `egress.routes[${i}]`;
    const problem = routeShapeProblem(r);
    if (problem) throw new ProxyError(problem.message, { key: `${key}.${problem.field}`, fix: problem.fix });
    if (r.auth) {
      const resolved = resolveAuth(r.auth, env);
      if (!resolved) {
        throw new ProxyError(`route ${r.host} injects ${r.auth.header} from $${r.auth.env}, which is not set on the host`, {
          key: `${key}.auth.env`,
          fix: `export ${r.auth.env}=… in the environment that runs bottle`,
        });
      }
      auth.set(r, resolved);
    }
  });
  return auth;
}
