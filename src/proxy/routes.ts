/**
 * Route matching and the per-request decision: MITM (terminate TLS and meter), tunnel (`mitm: false`, bytes
 * pass untouched) or deny (no route matches). Pure functions, so the policy the proxy applies is testable
 * without sockets. Known model API hosts are always intercepted: a route may not tunnel them, because that
 * would let an agent spend tokens unmetered.
 */
import type { ProviderName, Route } from "../manifest/types.ts";

/** The model API hosts bottle knows, and whose usage they carry. */
export const KNOWN_API_HOSTS: Readonly<Record<string, ProviderName>> = Object.freeze({
  "api.anthropic.com": "claude",
  "api.openai.com": "codex",
  "chatgpt.com": "codex",
});

export type Decision =
  | { kind: "mitm"; route: Route; provider?: ProviderName }
  | { kind: "tunnel"; route: Route }
  | { kind: "deny"; reason: string };

/** Lowercase, strip a trailing dot and IPv6 brackets. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

/** `*.example.com` matches subdomains of example.com (not example.com itself); anything else is exact. */
export function hostMatches(pattern: string, host: string): boolean {
  const p = normalizeHost(pattern);
  const h = normalizeHost(host);
  if (p.startsWith("*.")) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return p === h;
}

/** The first route that matches wins, the same order the manifests were composed in. */
export function matchRoute(routes: readonly Route[], host: string): Route | undefined {
  return routes.find((r) => hostMatches(r.host, host));
}

/**
 * Whole domains of model API hosts: OpenAI serves the same API, billed to the same keys, from regional hosts
 * (`eu.api.openai.com`, `us.`, `au.`, `in.`, `jp.`, `ae.` and whatever region comes next), so every subdomain
 * of `api.openai.com` is one. A route such as `*.openai.com` (with or without `mitm: false`) would otherwise
 * pass them unmetered.
 */
const KNOWN_API_DOMAINS: readonly (readonly [suffix: string, provider: ProviderName])[] = [[".api.openai.com", "codex"]];

export function providerForHost(host: string): ProviderName | undefined {
  const h = normalizeHost(host);
  return KNOWN_API_HOSTS[h] ?? KNOWN_API_DOMAINS.find(([suffix]) => h.endsWith(suffix))?.[1];
}

/** True when a route would intercept (MITM) this host. */
export function isMitm(route: Route, host: string): boolean {
  return route.mitm !== false || providerForHost(host) !== undefined;
}

/**
 * What a denial says about the allowlist a host is missing from, and how to change it: a bottle's run names
 * its egress routes. `bottle proxy` has no bottle, so it passes its own wording (see OpenRunOptions.allowlist).
 */
export const BOTTLE_ALLOWLIST = "this bottle's egress allowlist (add a route to egress.routes to allow it)";

/**
 * A MITM'd host is metered when it is a known API host, or its route names a provider, an `upstream:` or an
 * `auth:`. Its usage is counted under ONE key, the one budgets use (DESIGN: the agent's provider name): the
 * run's provider when the run has one (a pi agent calling Anthropic's API spends `pi` tokens), else the
 * route's or the host's provider (`bottle proxy` without `--provider`).
 */
export function decide(routes: readonly Route[], host: string, runProvider?: ProviderName, allowlist: string = BOTTLE_ALLOWLIST): Decision {
  const route = matchRoute(routes, host);
  if (!route) return { kind: "deny", reason: `${normalizeHost(host)} is not on ${allowlist}` };
  if (!isMitm(route, host)) return { kind: "tunnel", route };
  const metered = route.provider ?? providerForHost(host) ?? (route.upstream || route.auth ? runProvider : undefined);
  if (!metered) return { kind: "mitm", route };
  return { kind: "mitm", route, provider: runProvider ?? metered };
}

/**
 * The URL the proxy calls upstream. Without `upstream:` it is the original scheme/host/port; with it, the
 * route's base URL (its path is a prefix) replaces them.
 */
export function upstreamUrl(route: Route | undefined, scheme: "http" | "https", host: string, port: number, path: string): string {
  const p = path.startsWith("/") ? path : `/${path}`;
  if (route?.upstream) {
    const base = new URL(route.upstream);
    const prefix = base.pathname.replace(/\/+$/, "");
    return `${base.protocol}//${base.host}${prefix}${p}`;
  }
  const h = host.includes(":") ? `[${host}]` : host;
  const defaultPort = scheme === "https" ? 443 : 80;
  return `${scheme}://${h}${port === defaultPort ? "" : `:${port}`}${p}`;
}

/** Where a tunnel (mitm: false) connects: the route's upstream host:port, or the CONNECT target. */
export function tunnelTarget(route: Route, host: string, port: number): { host: string; port: number } {
  if (!route.upstream) return { host, port };
  const u = new URL(route.upstream);
  const p = u.port ? Number(u.port) : u.protocol === "http:" ? 80 : 443;
  return { host: normalizeHost(u.hostname), port: p };
}
