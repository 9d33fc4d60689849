/**
 * `commands`: the control transport. The dashboard and `bottle budget cutoff|restore` insert a row; the
 * process that owns the run polls for its pending rows, carries each out and writes the outcome.
 */
import type { Generated } from "kysely";

export interface CommandsTable {
  id: Generated<number>;
  run_id: string;
  command: string;
  created_at: number;
  done_at: number | null;
  result: string | null;
}
