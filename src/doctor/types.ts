/**
 * What `bottle doctor` reports: one check per thing a run depends on, each ok, a warning (some runs are
 * affected, or something is not set up yet) or a failure (a run could not start), with the fix for anything
 * that is not ok. Kept apart so the checks and the command share one small contract.
 */
export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  /** "backend sandbox", "agent claude", "ledger", … */
  name: string;
  status: CheckStatus;
  /** What was found, in one line. */
  detail: string;
  /** What to do about it (set whenever status is not ok). */
  fix?: string;
}

export interface DoctorReport {
  /** True when a run can start: no check failed. */
  ok: boolean;
  checks: Check[];
}
