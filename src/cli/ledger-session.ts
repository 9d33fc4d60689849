/**
 * Settings and the ledger for one command: read settings.yml (it says where the ledger lives and which
 * time zone budget windows use), open and migrate the ledger, run the command, and close the ledger
 * whatever happens, so a short command never leaves a connection (or a WAL lock) behind.
 */
import type { LedgerDb } from "../ledger/index.ts";
import { loadSettings } from "../manifest/index.ts";
import type { Settings } from "../manifest/types.ts";
import { bottleHome } from "../paths.ts";
import { openCliLedger } from "./ledger.ts";

export interface LedgerSession {
  home: string;
  settings: Settings;
  db: LedgerDb;
}

export async function withLedger<T>(fn: (s: LedgerSession) => Promise<T>): Promise<T> {
  const home = bottleHome();
  const settings = loadSettings(home);
  const db = await openCliLedger(settings);
  try {
    return await fn({ home, settings, db });
  } finally {
    await db.destroy();
  }
}

/** One JSON document on stdout (the stable `--json` form of a command). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
