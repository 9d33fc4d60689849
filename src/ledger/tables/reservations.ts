/**
 * `reservations`: budget held by requests in flight when pre-flight is on (input estimate + max_tokens). A
 * reservation is released when its response settles, or by crash recovery when its run's process is gone.
 */
export interface ReservationsTable {
  id: string;
  run_id: string;
  provider: string;
  tokens: number;
  created_at: number;
  released_at: number | null;
  /** The usage the reservation settled at (0 when released by recovery). */
  settled_tokens: number | null;
}
