/**
 * `enforcement_actions`: what enforcement did to a run and why (cutoff, freeze, kill, stop, restore, refuse),
 * with the budget facts at the time. The latest control action decides whether a run is cut off.
 */
import type { Generated } from "kysely";

export interface EnforcementActionsTable {
  id: Generated<number>;
  run_id: string;
  kind: string;
  /** budget | user | startup. */
  trigger: string;
  scope: string | null;
  provider: string | null;
  used: number | null;
  limit_tokens: number | null;
  detail: string | null;
  created_at: number;
}
