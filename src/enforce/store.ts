/**
 * The port enforcement needs from the ledger. A step that writes (a reservation, crash recovery, an action)
 * goes through `transaction`, which the ledger runs as `BEGIN IMMEDIATE` (the write lock is taken before
 * the first read, so two proxies cannot both see the same room). A step that only reads (admission with
 * pre-flight off, a crossing check) may go through `read`, one consistent snapshot without a lock. Budgets
 * read running totals, so every step costs the same whatever the ledger's size. Keeping this an interface
 * lets tests and a Postgres ledger provide their own implementation.
 */
import type { ScopeKey, UsageSelection } from "../budget/counting.ts";
import type { ProviderName } from "../manifest/types.ts";
import type { StandingFacts, StandingRead } from "../ledger/standing-query.ts";

export type { StandingFacts, StandingRead };

export interface ReservationRow {
  id: string;
  runId: string;
  provider: ProviderName;
  tokens: number;
  createdAt: number;
}

export type ActionKind = "cutoff" | "freeze" | "kill" | "stop" | "restore" | "refuse" | "crash";

export interface EnforcementActionRow {
  runId: string;
  kind: ActionKind;
  /** "budget" for a crossing, "user" for a command, "startup" for crash recovery. */
  trigger: string;
  scope?: string;
  provider?: ProviderName;
  used?: number;
  limit?: number;
  detail?: string;
  at: number;
}

export interface EnforceTx {
  /** Tokens charged to runs matching the selection since `sel.since`. */
  usedTokens(sel: UsageSelection): Promise<number>;
  /** Tokens held by unreleased reservations of runs matching the selection. */
  reservedTokens(sel: ScopeKey & { provider: ProviderName }): Promise<number>;
  /** Time (ms) of the last reset marker for this scope and provider (or for all providers), if any. */
  lastReset(scope: ScopeKey, provider: ProviderName): Promise<number | undefined>;
  addReservation(r: ReservationRow): Promise<void>;
  /** Marks a reservation released; returns false when it was already released. */
  releaseReservation(id: string, at: number, settledTokens: number): Promise<boolean>;
  /** The latest cutoff/restore/freeze/kill/stop action of the run, or undefined. */
  lastControlAction(runId: string): Promise<EnforcementActionRow | undefined>;
  recordAction(a: EnforcementActionRow): Promise<void>;
  /** Inserts a reset marker: usage before `at` stops counting for this scope (all providers when none given). */
  addReset(scope: ScopeKey, provider: ProviderName | undefined, at: number): Promise<void>;
  /** Runs holding unreleased reservations, with the pid of the process that owns each run. */
  reservationHolders(): Promise<Array<{ runId: string; pid: number | null }>>;
  /** Releases every reservation of a run; returns how many were released. */
  releaseRunReservations(runId: string, at: number): Promise<number>;
  /**
   * Charges every open reservation of a run in full (one estimated usage row per provider, added to the
   * running totals) and releases them: what a dead process was delivering is unknown, so the most it could
   * have been is what counts. Returns how many reservations and tokens.
   */
  chargeRunReservations(runId: string, at: number): Promise<{ reservations: number; tokens: number }>;
  /**
   * Every budget's reset, running total and held reservations in one statement, one entry per read (the
   * totals are returned as stored: the caller checks a row's `since` and rebuilds a stale one with
   * usedTokens). Absent: the caller asks lastReset, usedTokens and reservedTokens one at a time.
   */
  standings?(reads: readonly StandingRead[]): Promise<StandingFacts[]>;
  /** Runs still marked running on `host` whose owner pid is known. */
  runningRuns(host: string): Promise<Array<{ runId: string; pid: number }>>;
  /** Marks a run `crashed` (its process died without ending it); false when it was not running. */
  markCrashed(runId: string, at: number): Promise<boolean>;
}

export interface EnforceStore {
  /** One atomic read-write step, serialised with every other (SQLite: BEGIN IMMEDIATE). */
  transaction<T>(fn: (tx: EnforceTx) => Promise<T>): Promise<T>;
  /**
   * One consistent read that takes no lock, for decisions that write nothing (pre-flight off, a crossing
   * check). Its usedTokens throws NeedsWrite when a running total must first be built; the caller then
   * repeats the step in `transaction`. Absent: use `transaction`.
   */
  read?<T>(fn: (tx: EnforceTx) => Promise<T>): Promise<T>;
  /**
   * The same facts as EnforceTx.standings, as one consistent read outside any transaction, taking no lock;
   * answered from memory while the ledger has not changed since the same read (any process's commit
   * invalidates it). For decisions that write nothing (pre-flight off, a crossing check).
   */
  standings?(reads: readonly StandingRead[]): Promise<StandingFacts[]>;
  /** The run's latest control action outside any transaction (the run's own store answers from memory). */
  lastControlAction?(runId: string): Promise<EnforcementActionRow | undefined>;
  /** Where the ledger is (a file path), for messages that must name it. */
  location?: string;
}

/** Thrown inside `EnforceStore.read` when the step needs to write (a running total to build). */
export class NeedsWrite extends Error {
  constructor() {
    super("this step must write the ledger; repeat it in a transaction");
  }
}

/** A control command addressed to a run (written by `bottle budget cutoff|restore` or the dashboard). */
export interface CommandRow {
  id: number;
  runId: string;
  command: string;
  createdAt: number;
}

/** The ledger's commands table as the run that owns a bottle sees it. */
export interface CommandQueue {
  pending(runId: string): Promise<CommandRow[]>;
  /** false when nothing in the ledger can have changed since the last call (lets a poll skip its query). */
  changed?(): Promise<boolean>;
  /** Calls `onChange` when the ledger may have changed (a commit by any process); returns the unwatch. */
  watch?(onChange: () => void): () => void;
  complete(id: number, at: number, result: string): Promise<void>;
}

/** The sending side of the commands table (`bottle budget cutoff|restore`, the dashboard). */
export interface CommandSender {
  /** The run's owner pid, or undefined when the run is unknown. */
  /** The run's owning process and the host it runs on (a pid only means something on its own host). */
  runOwner(runId: string): Promise<{ pid: number | null; host?: string | null } | undefined>;
  enqueue(runId: string, command: string, at: number): Promise<number>;
  /** The outcome once the run has carried the command out. */
  outcome(id: number): Promise<{ doneAt: number; result: string } | undefined>;
}
