/**
 * `egress_audit`: one row per proxied request or tunnel the run's `egress.log` level keeps (`blocks`:
 * denials, refusals and errors; `full`: everything). Lets a user see what an agent reached and what it was
 * refused, after the fact.
 */
import type { Generated } from "kysely";

export interface EgressAuditTable {
  id: Generated<number>;
  run_id: string;
  /** When the request or tunnel started (ms since epoch). */
  created_at: number;
  host: string;
  method: string;
  path: string;
  status: number;
  /** mitm | tunnel | deny | refuse | error. */
  decision: string;
  reason: string | null;
  bytes_up: number;
  bytes_down: number;
  duration_ms: number;
}
