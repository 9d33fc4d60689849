/**
 * Admission and settlement against the ledger, each one atomic step (a transaction, or one consistent read).
 *
 * admit: is the run cut off? does the governing budget for this provider (and every repository budget,
 * which applies in addition) still have room? With a
 * reservation (pre-flight on) the request is admitted only if used + held + reservation <= limit, and the
 * reservation is written in the same transaction. Without one (pre-flight off) the request is admitted while
 * used + held < limit: post-hoc, the request that crosses completes and the next is refused.
 *
 * settle: release the request's reservation if the usage row's transaction did not already (its tokens were
 * charged by metering as actual usage), then report whether the budget is now crossed so the caller can
 * apply the cutoff policy.
 *
 * Only a reservation is written: with pre-flight off, admission and the crossing check are one statement
 * each (every budget's reset, running total and held reservations together: src/ledger/standing-query.ts),
 * take no lock, and are answered from memory when no process committed anything since the same read; with
 * no budget at all admission reads nothing from the ledger (the run's control state is in memory). Budgets
 * are read from running totals (src/ledger/totals.ts), so each step costs the same whatever the ledger's size.
 *
 * Bounds (concurrency C, limit L, per-request usage u_i, reservation r_i):
 *   off:      the last request admitted saw used < L, and at most C-1 others were in flight unseen, so
 *             charged <= (L - 1) + sum of the C largest u_i.
 *   estimate/provider: every admitted request had its r_i inside L, so charged <= L + sum over admitted
 *             requests of max(0, u_i - r_i); when reservations are upper bounds (input counted by the
 *             provider or overestimated, output capped by max_tokens) charged <= L.
 *   clamp:    the same admission, with r_i = input + the output cap granted from the room left in this
 *             transaction (see clamp.ts); the request is sent with that cap, so the same bound holds. A
 *             request that does not fit only because of reservations in flight is refused as retryable.
 */
import { scopeKeyFor, selectionFor } from "../budget/counting.ts";
import { describeScope, type EffectiveBudget } from "../budget/precedence.ts";
import { describeWindow } from "../budget/windows.ts";
import type { PreflightMode, ProviderName } from "../manifest/types.ts";
import { grantOutput, MIN_CLAMP_OUTPUT, type ClampAsk } from "./clamp.ts";
import type { RefusalFacts } from "./refusal.ts";
import { windowOf } from "./window-cache.ts";
import { NeedsWrite, type EnforceStore, type EnforceTx, type EnforcementActionRow, type StandingFacts, type StandingRead } from "./store.ts";

/** Everything enforcement knows about one run, fixed at launch. */
export interface RunBudgetPlan {
  runId: string;
  budgets: Partial<Record<ProviderName, EffectiveBudget>>;
  /** A repository's budgets, each enforced in addition to the governing one (never instead of it). */
  also?: Partial<Record<ProviderName, EffectiveBudget[]>>;
  timeZone: string;
  preflight: PreflightMode;
}

export type AdmitDecision =
  | { allow: true; reservationId?: string; reserved?: number; /** clamp: the output cap granted */ output?: number }
  | { allow: false; kind: "cutoff"; reason: string }
  | { allow: false; kind: "budget"; facts: RefusalFacts; budget: EffectiveBudget }
  /** clamp: the request would fit once the requests in flight settle (their reservations hold the room). */
  | { allow: false; kind: "held"; facts: RefusalFacts; budget: EffectiveBudget };

export interface BudgetStanding {
  budget: EffectiveBudget;
  used: number;
  held: number;
  since: number;
  windowEnd?: number;
}

/** Used and held tokens of a budget as seen by `runId` at `now`, inside an open transaction. */
export async function standing(tx: EnforceTx, b: EffectiveBudget, runId: string, now: number, timeZone: string): Promise<BudgetStanding> {
  return (await standingsOf(tx, [b], runId, now, timeZone))[0]!;
}

/** What admission reads for budget `b`: its scope for this run, its provider, and the window `now` is in. */
function readOf(b: EffectiveBudget, runId: string, now: number, timeZone: string): StandingRead {
  const w = windowOf(now, b.per, timeZone);
  const r: StandingRead = { ...scopeKeyFor(b, runId), provider: b.provider, windowStart: w.start };
  if (w.end !== undefined) r.windowEnd = w.end;
  return r;
}

/**
 * The standing the ledger's facts give, or undefined when the window's running total is missing or was
 * built from another `since` (a reset moved it): then it must be rebuilt, which writes.
 */
function standingFrom(b: EffectiveBudget, r: StandingRead, f: StandingFacts): BudgetStanding | undefined {
  const since = Math.max(r.windowStart, f.resetAt ?? 0);
  if (!f.total || f.total.since !== since) return undefined;
  const s: BudgetStanding = { budget: b, used: f.total.tokens, held: f.held, since };
  if (r.windowEnd !== undefined) s.windowEnd = r.windowEnd;
  return s;
}

/**
 * The standing of every budget in `budgets`: one statement for all of them when the ledger offers it
 * (tx.standings), a running total rebuilt only where it is stale; else three reads per budget.
 */
async function standingsOf(tx: EnforceTx, budgets: readonly EffectiveBudget[], runId: string, now: number, timeZone: string): Promise<BudgetStanding[]> {
  const reads = budgets.map((b) => readOf(b, runId, now, timeZone));
  const facts = tx.standings ? await tx.standings(reads) : undefined;
  const out: BudgetStanding[] = [];
  for (const [i, b] of budgets.entries()) {
    const r = reads[i]!;
    const f = facts?.[i];
    const known = f && standingFrom(b, r, f);
    if (known) {
      out.push(known);
      continue;
    }
    const w = r.windowEnd === undefined ? { start: r.windowStart } : { start: r.windowStart, end: r.windowEnd };
    const sel = selectionFor(b, runId, now, timeZone, f ? f.resetAt : await tx.lastReset(scopeKeyFor(b, runId), b.provider), w);
    const used = await tx.usedTokens(sel);
    const held = f ? f.held : await tx.reservedTokens({ ...scopeKeyFor(b, runId), provider: b.provider });
    const s: BudgetStanding = { budget: b, used, held, since: sel.since };
    if (sel.windowEnd !== undefined) s.windowEnd = sel.windowEnd;
    out.push(s);
  }
  return out;
}

/**
 * The standings read outside any transaction (store.standings: one statement, or memory while the ledger
 * is unchanged), or undefined when a running total must first be built (the caller takes the transaction).
 */
async function readStandings(store: EnforceStore, budgets: readonly EffectiveBudget[], runId: string, now: number, timeZone: string): Promise<BudgetStanding[] | undefined> {
  const reads = budgets.map((b) => readOf(b, runId, now, timeZone));
  const facts = await store.standings!(reads);
  const out: BudgetStanding[] = [];
  for (const [i, b] of budgets.entries()) {
    const s = standingFrom(b, reads[i]!, facts[i]!);
    if (!s) return undefined;
    out.push(s);
  }
  return out;
}

export function factsOf(s: BudgetStanding, timeZone: string, requested?: number): RefusalFacts {
  const f: RefusalFacts = {
    scope: describeScope(s.budget),
    provider: s.budget.provider,
    used: s.used + s.held,
    limit: s.budget.tokens,
    window: describeWindow(s.budget.per, timeZone),
  };
  if (requested !== undefined) f.requested = requested;
  if (s.windowEnd !== undefined) f.resetsAt = s.windowEnd;
  return f;
}

/** The budgets a request of `provider` must fit: the governing one, then the repository's (in addition). */
export function budgetsFor(plan: RunBudgetPlan, provider: ProviderName | undefined): EffectiveBudget[] {
  if (!provider) return [];
  const b = plan.budgets[provider];
  return [...(b ? [b] : []), ...(plan.also?.[provider] ?? [])];
}

/** Control actions that leave a run refusing every request until it is restored. */
const BLOCKING = new Set(["cutoff", "freeze", "kill", "stop"]);

/**
 * A step that writes nothing, as one consistent read without a lock (the store's `read`), repeated as a
 * transaction when it turns out to need a write (a running total to build, once per window) or when the
 * store has no separate read.
 */
async function readStep<T>(store: EnforceStore, fn: (tx: EnforceTx) => Promise<T>): Promise<T> {
  if (!store.read) return store.transaction(fn);
  try {
    return await store.read(fn);
  } catch (e) {
    if (!(e instanceof NeedsWrite)) throw e;
    return store.transaction(fn);
  }
}

export async function admit(
  store: EnforceStore,
  plan: RunBudgetPlan,
  req: { provider?: ProviderName; reserve?: number; clamp?: ClampAsk; now?: number },
): Promise<AdmitDecision> {
  const now = req.now ?? Date.now();
  const all = budgetsFor(plan, req.provider);
  const cutoff = (last: EnforcementActionRow | undefined): AdmitDecision | undefined =>
    last && BLOCKING.has(last.kind) ? { allow: false, kind: "cutoff", reason: last.detail ?? `${last.kind} by ${last.trigger}` } : undefined;
  // No budget governs: only the run's control state matters, and the run's own store has it in memory.
  if (all.length === 0 && store.lastControlAction) return cutoff(await store.lastControlAction(plan.runId)) ?? { allow: true };
  // Pre-flight off: the first budget already used up refuses (post-hoc: the request that crosses completes).
  const judge = (ss: readonly BudgetStanding[]): AdmitDecision | undefined => {
    for (const s of ss) {
      const b = s.budget;
      if (req.reserve === undefined) {
        if (s.used + s.held >= b.tokens) return { allow: false, kind: "budget", facts: factsOf(s, plan.timeZone), budget: b };
      } else if (s.used + s.held + req.reserve > b.tokens) return { allow: false, kind: "budget", facts: factsOf(s, plan.timeZone, req.reserve), budget: b };
    }
    return undefined;
  };
  const decide = async (tx: EnforceTx): Promise<AdmitDecision> => {
    const blocked = cutoff(await tx.lastControlAction(plan.runId));
    if (blocked) return blocked;
    if (req.clamp && all.length > 0) return clamped(tx, req.clamp);
    const refused = judge(await standingsOf(tx, all, plan.runId, now, plan.timeZone));
    if (refused) return refused;
    if (req.reserve === undefined || all.length === 0) return { allow: true };
    const id = crypto.randomUUID();
    await tx.addReservation({ id, runId: plan.runId, provider: all[0]!.provider, tokens: req.reserve, createdAt: now });
    return { allow: true, reservationId: id, reserved: req.reserve };
  };
  // clamp: the output cap granted is the room left in the tightest budget after the input (clamp.ts).
  const clamped = async (tx: EnforceTx, ask: ClampAsk): Promise<AdmitDecision> => {
    let room = Infinity;
    let roomOnceSettled = Infinity;
    let tightest: { s: BudgetStanding; b: EffectiveBudget } | undefined;
    for (const s of await standingsOf(tx, all, plan.runId, now, plan.timeZone)) {
      const b = s.budget;
      if (b.tokens - s.used - s.held < room) {
        room = b.tokens - s.used - s.held;
        tightest = { s, b };
      }
      roomOnceSettled = Math.min(roomOnceSettled, b.tokens - s.used);
    }
    const output = grantOutput(room, ask);
    if (output === undefined) {
      const facts = factsOf(tightest!.s, plan.timeZone, ask.input + Math.min(ask.wanted, MIN_CLAMP_OUTPUT));
      // Reservations are upper bounds that settle to actual usage: room they hold now may come back.
      const later = roomOnceSettled > room && grantOutput(roomOnceSettled, ask) !== undefined;
      return { allow: false, kind: later ? "held" : "budget", facts, budget: tightest!.b };
    }
    const id = crypto.randomUUID();
    const reserved = ask.input + output;
    await tx.addReservation({ id, runId: plan.runId, provider: all[0]!.provider, tokens: reserved, createdAt: now });
    return { allow: true, reservationId: id, reserved, output };
  };
  // Pre-flight off writes nothing: one consistent read. Each admission still sees every charge committed
  // before it, which is all the post-hoc bound needs (docs/budgets.md). Only a reservation takes the lock.
  if (all.length === 0 || (req.reserve === undefined && !req.clamp)) {
    // One statement (or memory, when nothing committed since the last read) instead of a snapshot.
    if (all.length > 0 && store.standings && store.lastControlAction) {
      const blocked = cutoff(await store.lastControlAction(plan.runId));
      if (blocked) return blocked;
      const ss = await readStandings(store, all, plan.runId, now, plan.timeZone);
      if (!ss) return store.transaction(decide);
      return judge(ss) ?? { allow: true };
    }
    return readStep(store, decide);
  }
  return store.transaction(decide);
}

export interface Settlement {
  /** Present when the governing budget is used up after this request. */
  crossed?: BudgetStanding;
}

/** Releases the reservation (if any) and reports a crossing. Usage itself is charged by metering. */
export async function settle(
  store: EnforceStore,
  plan: RunBudgetPlan,
  req: { provider?: ProviderName; reservationId?: string; charged: number; now?: number },
): Promise<Settlement> {
  const now = req.now ?? Date.now();
  const all = budgetsFor(plan, req.provider);
  const crossedIn = (ss: readonly BudgetStanding[]): Settlement => {
    const s = ss.find((x) => x.used >= x.budget.tokens);
    return s ? { crossed: s } : {};
  };
  const crossing = async (tx: EnforceTx): Promise<Settlement> => crossedIn(await standingsOf(tx, all, plan.runId, now, plan.timeZone));
  // With the reservation already released (by the usage row's own transaction), this only reads: from
  // memory when nothing was committed since admission read the same standings.
  if (!req.reservationId) {
    if (all.length === 0) return {};
    if (store.standings) {
      const ss = await readStandings(store, all, plan.runId, now, plan.timeZone);
      return ss ? crossedIn(ss) : store.transaction(crossing);
    }
    return readStep(store, crossing);
  }
  return store.transaction(async (tx) => {
    await tx.releaseReservation(req.reservationId!, now, req.charged);
    return crossing(tx);
  });
}
