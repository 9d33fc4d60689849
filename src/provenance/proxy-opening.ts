/**
 * The opening of a `bottle proxy` session's record. A session is a run in the ledger, so it is owed the
 * same signed record as a launched run, but only part of a launched run's opening applies to it: bottle
 * starts no agent CLI (whatever the user points at the proxy is unknown to it: no agent, no prompt),
 * composes no bottle (the routes are the chosen providers' hosts, the policy is the session's flags), and
 * gives its clients no workspace. The client runs unsandboxed, anywhere on the host, so the git state of
 * the directory `bottle proxy` was started in says nothing about what the client did; the record leaves
 * the workspace out (null) rather than pass that off as the session's work. Pure, but for the host name.
 */
import { hostName } from "../host-name.ts";
import type { Route } from "../manifest/types.ts";
import { canonicalHash } from "./canonical.ts";
import { routeFacts } from "./opening.ts";
import { PROXY_SESSION, type RecordOpening } from "./record.ts";

export interface ProxyOpeningInput {
  runId: string;
  label: string;
  /** The providers whose hosts the session routes. */
  providers: readonly string[];
  /** The routes the session's listener really has (the simulator's or the gateway's URL in them). */
  routes: readonly Route[];
  simulatorUrl?: string;
  log: string;
  /** The budgets that govern the session (settings.yml's, `--budget`), as enforcement has them. */
  budgets: ReadonlyArray<{ provider: string; tokens: number; per?: string; scope: string; name?: string; file?: string }>;
  preflight: { value: string; from: string; file?: string };
}

/** There is no bottle to freeze or kill: crossing a budget always cuts the session off. */
const SHUTDOWN = { policy: "cutoff", from: "bottle proxy", file: null };

export function proxyOpening(i: ProxyOpeningInput): RecordOpening {
  const routes = routeFacts(i.routes, i.simulatorUrl);
  const governing = i.budgets.map((x) => ({ provider: x.provider, tokens: x.tokens, per: x.per ?? null, scope: x.scope, name: x.name ?? null, file: x.file ?? null }));
  const preflight = { mode: i.preflight.value, from: i.preflight.from, file: i.preflight.file ?? null };
  const policy = { session: PROXY_SESSION, providers: [...i.providers], routes, log: i.log, budgets: governing, shutdown: SHUTDOWN.policy, preflight: preflight.mode };
  return {
    run: { id: i.runId, label: i.label, host: hostName(), backend: PROXY_SESSION, headless: false, simulated: i.simulatorUrl !== undefined, resumeOf: null },
    agent: null,
    prompt: { sha256: null, text: null, included: false },
    bottles: {
      requested: [],
      chain: [],
      policySha256: canonicalHash(policy),
      routes,
      secrets: routes.filter((r) => r.secret).map((r) => ({ name: r.secret!, via: "route-auth" as const, host: r.host })),
      egressLog: i.log,
    },
    budgets: { governing, shutdown: { ...SHUTDOWN }, preflight },
    workspaceStart: null,
  };
}
