/**
 * The proxy hooks that enforce budgets. `admit` refuses a cut-off run, checks the governing budget and, with
 * pre-flight on, reserves the request's estimated size, all in one ledger transaction; the refusal is shaped
 * like the provider's error. `onResponseEnd`/`onAbort` release the reservation once metering has charged the
 * actual usage (compose these after the metering hooks) and apply the cutoff policy when the budget is used
 * up. Any ledger failure refuses the request: nothing is admitted unmetered. That refusal is retryable (503,
 * retry-after, in the provider's format) and names the ledger and the cause: a full disk or a lock held a
 * little too long is bottle's trouble, not a spent budget. While the ledger writer holds usage it could not
 * record (`ledgerProblem`), every request is refused that way, so an unrecorded charge never lets more
 * through.
 */
import { log } from "../log.ts";
import type { ShutdownPolicy } from "../manifest/types.ts";
import { RESERVATION_SETTLED_KEY, RESERVATION_STATE_KEY } from "../ledger/run-hooks.ts";
import { METER_STATE_KEY } from "../metering/proxy-hooks.ts";
import { billedTokens } from "../metering/tally.ts";
import type { MeterResult } from "../metering/types.ts";
import { resolveAuth, upstreamRequestHeaders } from "../proxy/headers.ts";
import type { Admission, ProxyHooks, ProxyRequestContext } from "../proxy/hooks.ts";
import { admit, budgetsFor, settle, type RunBudgetPlan } from "./admission.ts";
import { countCallFor, countViaProvider, type FetchLike } from "./count-tokens.ts";
import { enforcePolicy } from "./cutoff.ts";
import { estimateInput, reservationOf, type Reservation } from "./estimate.ts";
import { budgetRefusalMessage, cutoffMessage, errorStyleFor, heldMessage, ledgerUnavailableMessage, refusalResponse, RETRY_AFTER_S, unavailableResponse } from "./refusal.ts";
import { clampAsk, withOutputCap, type ClampAsk } from "./clamp.ts";
import type { LastRefusal } from "./last-refusal.ts";
import { generationFormat, requestShape, type RequestShape } from "./request-shape.ts";
import type { RunControl } from "./run-control.ts";
import type { EnforceStore } from "./store.ts";

export interface BudgetHookOptions {
  store: EnforceStore;
  plan: RunBudgetPlan;
  policy: ShutdownPolicy;
  control?: RunControl;
  /** Headers for a counting call to the request's upstream; default: the request's, with the route's secret. */
  countHeaders?: (ctx: ProxyRequestContext) => Headers;
  /** fetch for counting calls (upstream TLS trust, no proxy); default: fetch without the proxy variables. */
  fetcher?: FetchLike;
  /** Where `auth:` secrets are read from for counting calls; default process.env. */
  env?: Record<string, string | undefined>;
  /** Why usage cannot be recorded right now (the run's ledger writer); admission refuses while set. */
  ledgerProblem?: () => { file: string; cause: string } | undefined;
  /** Told of each budget refusal and each admitted model request (for the run's exit code). */
  refusals?: LastRefusal;
}

/** Where the hooks keep per-exchange state in ctx.state (the ledger's usage row releases it). */
const RESERVATION = RESERVATION_STATE_KEY;
/** Where the metering hooks leave their MeterResult (read to record what a reservation settled at). */
export { METER_STATE_KEY };

/** What the pre-flight gate asks of admission for this request: a reservation, a clamp, or nothing (off). */
type Ask = { reserve: Reservation; shape: RequestShape } | { clamp: ClampAsk; shape: RequestShape } | undefined;

async function askFor(o: BudgetHookOptions, ctx: ProxyRequestContext, body: Uint8Array): Promise<Ask> {
  if (o.plan.preflight === "off" || budgetsFor(o.plan, ctx.provider).length === 0) return undefined;
  const shape = requestShape(ctx.method, ctx.path, body);
  if (!shape) return undefined;
  const r = await reserveFor(o, ctx, shape);
  return o.plan.preflight === "clamp" ? { clamp: clampAsk(shape, ctx.path, r.input), shape } : { reserve: r, shape };
}

async function reserveFor(o: BudgetHookOptions, ctx: ProxyRequestContext, shape: RequestShape): Promise<Reservation> {
  // clamp counts input the way `provider` does: the provider's own count, else the local estimate.
  if (o.plan.preflight === "provider" || o.plan.preflight === "clamp") {
    const call = countCallFor(shape, ctx.upstreamUrl);
    const auth = ctx.route?.auth ? resolveAuth(ctx.route.auth, o.env ?? process.env) : undefined;
    const headers = o.countHeaders?.(ctx) ?? upstreamRequestHeaders(ctx.requestHeaders, auth);
    const n = call ? await countViaProvider(call, headers, o.fetcher ?? directFetch) : undefined;
    if (n !== undefined) return reservationOf(n, shape, "provider");
    log.debug(`preflight: no provider count for ${ctx.path}; using the local estimate`);
  }
  return reservationOf(await estimateInput(shape), shape, "estimate");
}

/** The proxy's own upstream calls must not loop back through a proxy set in the environment. */
const directFetch: FetchLike = (url, init) => fetch(url, { ...init, proxy: false } as unknown as RequestInit);

export function budgetHooks(o: BudgetHookOptions): ProxyHooks {
  const { store, plan } = o;

  async function finish(ctx: ProxyRequestContext): Promise<void> {
    // Released in the usage row's own transaction (or kept by the writer until it can write that row).
    const taken = ctx.state[RESERVATION_SETTLED_KEY] !== undefined;
    const held = taken ? undefined : (ctx.state[RESERVATION] as string | undefined);
    if (!ctx.provider && !held) return;
    if (!held && budgetsFor(plan, ctx.provider).length === 0) return;
    const meter = ctx.state[METER_STATE_KEY] as MeterResult | undefined;
    const step = (async () => {
      const r = await settle(store, plan, { provider: ctx.provider, reservationId: held, charged: meter ? billedTokens(meter) : 0 });
      delete ctx.state[RESERVATION];
      if (r.crossed) await enforcePolicy(store, o.control, plan, o.policy, r.crossed);
    })().catch((e: unknown) => log.error(`budget settlement failed for ${ctx.id}: ${String(e)}`));
    // A release is awaited (the exchange holds budget until then). A crossing check only reads what is
    // already committed, so the client's response need not wait for it: the next admission reads the same
    // totals and refuses on its own.
    if (held) await step;
  }

  return {
    async admit(ctx, body): Promise<Admission> {
      const style = errorStyleFor(ctx.method, ctx.path, ctx.provider);
      const problem = o.ledgerProblem?.();
      if (problem) {
        log.warn(`request ${ctx.id} refused (retryable): usage cannot be recorded in ${problem.file}: ${problem.cause}`);
        return { allow: false, response: unavailableResponse(style, ledgerUnavailableMessage(problem.file, problem.cause)) };
      }
      try {
        const ask = await askFor(o, ctx, body);
        const d = await admit(store, plan, {
          provider: ctx.provider,
          ...(ask && "reserve" in ask ? { reserve: ask.reserve.total } : {}),
          ...(ask && "clamp" in ask ? { clamp: ask.clamp } : {}),
        });
        if (d.allow) {
          if (d.reservationId) ctx.state[RESERVATION] = d.reservationId;
          if (generationFormat(ctx.method, ctx.path)) o.refusals?.admitted();
          if (ask && "clamp" in ask && d.output !== undefined) {
            const lowered = withOutputCap(ask.shape, ctx.path, d.output);
            const asked = ask.shape.maxOutput;
            if (asked !== undefined && d.output < asked) log.info(`preflight: ${ctx.method} ${ctx.host}${ctx.path}: output cap lowered from ${asked} to ${d.output} tokens to fit the budget`);
            if (lowered) return { allow: true, body: lowered };
          }
          return { allow: true };
        }
        if (d.kind === "cutoff") return { allow: false, response: refusalResponse(style, cutoffMessage(plan.runId, d.reason)) };
        if (d.kind === "held") return { allow: false, response: unavailableResponse(style, heldMessage(d.facts), RETRY_AFTER_S, "held"), reason: "budget room held by requests in flight" };
        if (d.facts.requested === undefined || d.facts.used >= d.facts.limit) {
          const b = d.budget;
          await enforcePolicy(store, o.control, plan, o.policy, { budget: b, used: d.facts.used, held: 0, since: 0, ...(d.facts.resetsAt ? { windowEnd: d.facts.resetsAt } : {}) });
        }
        const message = budgetRefusalMessage(d.facts);
        o.refusals?.refused(message);
        return { allow: false, response: refusalResponse(style, message) };
      } catch (e) {
        const cause = ledgerCause(e);
        log.error(`admission failed for ${ctx.id}, refusing (retryable): ${cause}`);
        return { allow: false, response: unavailableResponse(style, ledgerUnavailableMessage(store.location, cause)) };
      }
    },
    onResponseEnd: finish,
    onAbort: (ctx) => finish(ctx),
  };
}

/** A ledger failure as a user reads it: a lock held too long says so; anything else keeps SQLite's words. */
function ledgerCause(e: unknown): string {
  const code = String((e as { code?: unknown }).code ?? "");
  if (/SQLITE_(BUSY|LOCKED)/.test(code)) return "another process has held its write lock longer than the busy timeout";
  const msg = e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${msg} (${code})` : msg;
}
