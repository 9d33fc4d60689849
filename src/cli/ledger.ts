/**
 * The ledger as CLI commands open it: at settings.yml's `ledger:` when set, else `$BOTTLE_HOME/bottle.db`
 * (created with its directory on first use), migrated before use. Opening errors are LedgerErrors that name
 * the file and the fix.
 */
import { ledgerPath, openLedger, type LedgerDb } from "../ledger/index.ts";
import type { Settings } from "../manifest/types.ts";
import { loadSettings } from "../manifest/settings.ts";

export function openCliLedger(settings: Settings = loadSettings()): Promise<LedgerDb> {
  return openLedger({ path: ledgerPath(settings), createDir: !settings.ledger });
}
