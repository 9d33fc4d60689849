/**
 * The ledger as CLI commands open it: at settings.yml's `ledger:` when set, else `$BOTTLE_HOME/bottle.db`,
 * migrated before use. Opening errors are LedgerErrors that name the file and the fix.
 */
import { openLedger, ledgerPath, type LedgerDb } from "../ledger/index.ts";

export function openCliLedger(): Promise<LedgerDb> {
  const path = ledgerPath();
  return openLedger({ path, createDir: true });
}
