/**
 * Checks a run's routes before its listeners open, so a route that cannot work fails the launch with a
 * clear error instead of failing requests later: an `auth:` secret missing from the host environment, an
 * `upstream:` that is not an http(s) base URL, or a known model API host marked `mitm: false` (which would
 * let the agent spend tokens unmetered). Returns the resolved secrets keyed by route.
 */
import { ProxyError } from "../errors.ts";
import type { Route } from "../manifest/types.ts";
import { resolveAuth, type InjectedAuth } from "./headers.ts";
import { providerForHost } from "./routes.ts";

export function validateRoutes(routes: readonly Route[], env: Record<string, string | undefined>): Map<Route, InjectedAuth> {
  const auth = new Map<Route, InjectedAuth>();
  routes.forEach((r, i) => {
    const key = `egress.routes[${i}]`;
    if (r.mitm === false && providerForHost(r.host)) {
      throw new ProxyError(`route ${r.host} sets mitm: false, but it is a model API host that bottle must meter`, {
        key: `${key}.mitm`,
        fix: "remove `mitm: false` from this route",
      });
    }
    if (r.upstream !== undefined) {
      let ok = false;
      try {
        const u = new URL(r.upstream);
        ok = (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "" && !u.search && !u.hash;
      } catch {}
      if (!ok) {
        throw new ProxyError(`route ${r.host} has an invalid upstream ${JSON.stringify(r.upstream)}`, {
          key: `${key}.upstream`,
          fix: "use an http:// or https:// base URL such as https://gateway.example.com/anthropic",
        });
      }
    }
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
