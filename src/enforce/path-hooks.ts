/**
 * The path policy as a proxy hook: on a metered host (an exchange with a provider), a request that can
 * change state on a path bottle cannot meter is refused with a 403 before anything is sent, shaped like the
 * provider's own permission error and never retried; its audit record names the path and the route key
 * that would allow it. A path the route opts out with `unmetered:` goes through and is audited as
 * `unmetered`. A metered endpoint whose body asks for what the meter cannot see (a Responses `background`
 * run, billed later; a body that is not readable JSON) is refused the same way. Reads pass untouched.
 * Compose it before the budget hooks.
 */
import { bodyProblem, pathVerdict } from "../metering/path-policy.ts";
import type { Admission, ProxyHooks } from "../proxy/hooks.ts";
import { providerForHost } from "../proxy/routes.ts";
import { errorStyleFor } from "./refusal.ts";

function forbidden(style: "anthropic" | "openai", message: string): Response {
  const headers = new Headers({ "content-type": "application/json", "x-should-retry": "false", "x-bottle-refusal": "path" });
  const body = style === "anthropic"
    ? { type: "error", error: { type: "permission_error", message } }
    : { error: { message, type: "permission_error", param: null, code: "unmetered_path" } };
  return new Response(JSON.stringify(body), { status: 403, headers });
}

export function pathPolicyHooks(): ProxyHooks {
  return {
    admit(ctx, body): Admission {
      if (!ctx.provider || !ctx.route) return { allow: true };
      const v = pathVerdict({ method: ctx.method, path: ctx.path, headers: ctx.requestHeaders, host: ctx.host, routeHost: ctx.route.host, ...(ctx.route.unmetered ? { unmetered: ctx.route.unmetered } : {}) });
      if (v.kind === "unmetered") ctx.audit = { decision: "unmetered", reason: `not metered: the route for ${ctx.route.host} opts in unmetered: ["${v.rule}"]` };
      const reason = v.kind === "refuse" ? v.reason : v.kind === "metered" ? bodyProblem(v.route, ctx.method, ctx.path, ctx.host, body) : undefined;
      if (reason === undefined) return { allow: true };
      const message = `bottle: ${reason}.`;
      // Shaped like the host's own errors (a pi run's usage counts as pi, but api.openai.com speaks OpenAI's).
      const style = errorStyleFor(ctx.method, ctx.path, providerForHost(ctx.host) ?? ctx.provider);
      return { allow: false, response: forbidden(style, message), reason };
    },
  };
}
