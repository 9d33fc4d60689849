/**
 * Every ledger migration, imported statically. A compiled `bottle` binary has no migrations directory to
 * read at run time, so the list is code: add a file, then add it here under a name that sorts after the
 * last one (kysely runs them in name order and refuses to run one out of order).
 */
import type { Migration, MigrationProvider } from "kysely/migration";
import * as m0001 from "./0001-core.ts";
import * as m0002 from "./0002-egress-audit.ts";
import * as m0003 from "./0003-budget-totals.ts";
import * as m0004 from "./0004-usage-under-run-provider.ts";

export const MIGRATIONS: Record<string, Migration> = {
  "0001-core": m0001,
  "0002-egress-audit": m0002,
  "0003-budget-totals": m0003,
  "0004-usage-under-run-provider": m0004,
};

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).sort().at(-1)!;

export const staticMigrations: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
