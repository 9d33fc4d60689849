/**
 * The runs repository. The launcher registers a run before its proxy opens and ends it when the agent
 * exits; freeze and resume move it between states. Plain functions over a LedgerDb (no SQL in callers);
 * bottle lists are stored as JSON arrays and handed back as arrays.
 */
import { hostName } from "../host-name.ts";
import { LedgerError } from "../errors.ts";
import type { LedgerDb, RunRow } from "./database.ts";
import { immediate } from "./tx.ts";

/** `crashed`: the owning process died without ending the run (found and marked by the next start). */
export type RunState = "running" | "frozen" | "ended" | "crashed";

export interface NewRun {
  id: string;
  /** Default: the agent name, or the run id when there is no agent. */
  label?: string;
  color?: string;
  /** The agent's name; "" for a `bottle proxy` session. */
  agent: string;
  provider?: string;
  /** Bottles requested for the run, in order. */
  bottles?: readonly string[];
  /** Every bottle involved, parents included (default: `bottles`). */
  chain?: readonly string[];
  backend?: string;
  /** The process that owns the run; default this one. null when unknown. */
  pid?: number | null;
  /** Default os.hostName(). */
  host?: string;
  startedAt?: number;
}

export interface RunInfo {
  id: string;
  label: string;
  color: string | null;
  agent: string;
  provider: string | null;
  bottles: string[];
  chain: string[];
  backend: string | null;
  host: string | null;
  pid: number | null;
  state: RunState;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  stopReason: string | null;
}

export function parseNames(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function info(r: RunRow): RunInfo {
  return {
    id: r.id,
    label: r.label,
    color: r.color,
    agent: r.agent,
    provider: r.provider,
    bottles: parseNames(r.bottles),
    chain: parseNames(r.chain),
    backend: r.backend,
    host: r.host,
    pid: r.pid,
    state: r.state as RunState,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    exitCode: r.exit_code,
    stopReason: r.stop_reason,
  };
}

/** Records a new run (state `running`). Registering an id twice is an error. */
export async function registerRun(db: LedgerDb, r: NewRun): Promise<void> {
  await db
    .insertInto("runs")
    .values({
      id: r.id,
      label: r.label ?? (r.agent || r.id),
      color: r.color ?? null,
      agent: r.agent,
      provider: r.provider ?? null,
      bottles: JSON.stringify(r.bottles ?? []),
      chain: JSON.stringify(r.chain ?? r.bottles ?? []),
      backend: r.backend ?? null,
      host: r.host ?? hostName(),
      pid: r.pid === undefined ? process.pid : r.pid,
      state: "running",
      started_at: r.startedAt ?? Date.now(),
      ended_at: null,
      exit_code: null,
      stop_reason: null,
    })
    .execute()
    .catch((e: unknown) => {
      // SQLite: SQLITE_CONSTRAINT_PRIMARYKEY; Postgres: 23505 unique_violation.
      const code = String((e as { code?: unknown }).code ?? e);
      if (!/constraint/i.test(code) && code !== "23505") throw e;
      throw new LedgerError(`run ${r.id} is already in the ledger`, { key: "run", fix: "use a new run id (a resumed run keeps its row: use setRunState)" });
    });
}

/**
 * Registers a run under a label that `pick` chooses from the runs that are running or frozen, in one
 * BEGIN IMMEDIATE transaction: launches in many processes at once each see the labels the others claimed,
 * so no two live runs end up with the same one. Returns the label the run got.
 */
export async function claimRun(db: LedgerDb, r: NewRun, pick: (live: RunInfo[]) => string): Promise<string> {
  return immediate(db, async (conn) => {
    const label = pick(await listRuns(conn, { state: ["running", "frozen"] }));
    await registerRun(conn, { ...r, label });
    return label;
  });
}

export interface RunEnd {
  /** The agent's exit code, when it exited. */
  exitCode?: number | null;
  /** Why the run stopped when it was not the agent's own exit: budget, user, signal, error. */
  stopReason?: string;
  at?: number;
}

/** Marks a run ended; returns false when the run is unknown. */
export async function endRun(db: LedgerDb, runId: string, end: RunEnd = {}): Promise<boolean> {
  const r = await db
    .updateTable("runs")
    .set({ state: "ended", ended_at: end.at ?? Date.now(), exit_code: end.exitCode ?? null, stop_reason: end.stopReason ?? null })
    .where("id", "=", runId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Moves a run to `frozen` or back to `running` (resume: the new owner's pid). Returns false when unknown. */
export async function setRunState(db: LedgerDb, runId: string, state: Exclude<RunState, "ended">, pid?: number | null): Promise<boolean> {
  const r = await db
    .updateTable("runs")
    .set({ state, ...(pid !== undefined ? { pid } : {}), ...(state === "running" ? { ended_at: null } : {}) })
    .where("id", "=", runId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function getRun(db: LedgerDb, runId: string): Promise<RunInfo | undefined> {
  const r = await db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirst();
  return r ? info(r) : undefined;
}

export interface RunFilter {
  /** Only runs in these states (e.g. the labels of live runs, for picking a unique one). */
  state?: RunState | RunState[];
  /** Only runs that ended at or after this instant (ms); runs that have not ended are left out. */
  endedSince?: number;
  /** At most this many runs (the newest). */
  limit?: number;
  /** What "newest" means: the latest started (default), or the latest ended (runs not ended last). */
  newest?: "started" | "ended";
}

/** Runs, newest first, narrowed by `filter`. */
export async function listRuns(db: LedgerDb, filter: RunFilter = {}): Promise<RunInfo[]> {
  const states = filter.state === undefined ? undefined : Array.isArray(filter.state) ? filter.state : [filter.state];
  const rows = await db
    .selectFrom("runs")
    .selectAll()
    .$if(states !== undefined, (q) => q.where("state", "in", states!))
    .$if(filter.endedSince !== undefined, (q) => q.where("ended_at", ">=", filter.endedSince!))
    .$if(filter.newest === "ended", (q) => q.orderBy("ended_at", "desc"))
    .orderBy("started_at", "desc")
    .orderBy("id")
    .$if(filter.limit !== undefined, (q) => q.limit(filter.limit!))
    .execute();
  return rows.map(info);
}
