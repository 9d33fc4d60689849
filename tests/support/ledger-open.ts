/**
 * Opens the ledger at argv[2] in a child process (so a test can run it inside a read-only mount) and prints
 * the outcome as one JSON line: {ok: true} or the LedgerError's name, message and context.
 */
import { openLedger } from "../../src/ledger/index.ts";

try {
  const db = await openLedger({ path: process.argv[2]! });
  await db.destroy();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  const err = e as Error & { context?: unknown };
  console.log(JSON.stringify({ ok: false, name: err.name, message: err.message, context: err.context }));
}
