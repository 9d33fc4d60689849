/**
 * The egress allowlist of a run. The composed bottles' routes come first, because the first matching route
 * wins and they carry the user's policy (`auth:` custody, `upstream:` gateways); the provider's own hosts
 * follow for whatever the bottles did not cover, so the agent always reaches its API and the side hosts it
 * needs. With `--simulate`, the provider's metered hosts are sent to the built-in simulator instead, and
 * their `auth:` is dropped: no real key leaves the host for a simulated provider.
 */
import type { Route } from "../manifest/types.ts";
import { hostMatches } from "../proxy/routes.ts";

export function runRoutes(bottleRoutes: readonly Route[], providerRoutes: readonly Route[]): Route[] {
  const out: Route[] = [...bottleRoutes];
  for (const r of providerRoutes) {
    if (!out.some((b) => hostMatches(b.host, r.host))) out.push(r);
  }
  return out;
}

/** Every route for one of `metered` goes to `upstream`, without `auth:`. */
export function simulatedRoutes(routes: readonly Route[], metered: readonly string[], upstream: string): Route[] {
  return routes.map((r) => {
    if (!metered.some((h) => hostMatches(r.host, h))) return r;
    const { auth: _auth, ...rest } = r;
    return { ...rest, upstream };
  });
}
