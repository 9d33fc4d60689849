/**
 * `budget_resets`: `bottle budget reset` markers. Usage before the latest marker of a scope stops counting
 * against that scope's budget; history itself is never deleted.
 */
import type { Generated } from "kysely";

export interface BudgetResetsTable {
  id: Generated<number>;
  /** run | agent | bottle | global (a parent budget's reset is stored as bottle). */
  scope: string;
  scope_key: string;
  /** null: every provider. */
  provider: string | null;
  created_at: number;
}
