/**
 * `runs`: one row per launch of an agent (or per `bottle proxy` session). Everything else in the ledger hangs
 * off a run id. `bottles` and `chain` are JSON arrays of bottle names (requested, and with every `extends`
 * parent), which is what budget scopes match on.
 */
import type { ColumnType } from "kysely";

export interface RunsTable {
  id: string;
  /** Human label shown by `bottle ps` and the dashboard (unique among live runs). */
  label: string;
  color: string | null;
  /** Agent name ("" for a `bottle proxy` session, which runs no agent). */
  agent: string;
  provider: string | null;
  /** JSON array: the bottles the user asked for, in order. */
  bottles: string;
  /** JSON array: every bottle involved, parents included. */
  chain: string;
  backend: string | null;
  /** Host the run's process lives on (several hosts may share one ledger). */
  host: string | null;
  /** The process that owns the run (its proxy dies with it). */
  pid: number | null;
  /** running | frozen | ended. */
  state: ColumnType<string, string | undefined, string>;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  /** Why the run ended when it was not the agent's own exit: budget, user, signal, error. */
  stop_reason: string | null;
}
