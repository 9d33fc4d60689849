/**
 * The Postgres ledger's migrations, versioned on their own: a fleet ledger starts at today's schema, so its
 * history is shorter than SQLite's. Every later schema change is written twice, once per dialect, under
 * the same kind of name (see src/ledger/migrations/index.ts), and both lists import their files statically
 * (a compiled binary has no directory to read).
 */
import type { Migration, MigrationProvider } from "kysely/migration";
import * as p0001 from "./0001-fleet-schema.ts";

export const PG_MIGRATIONS: Record<string, Migration> = {
  "0001-fleet-schema": p0001,
};

export const PG_LATEST_MIGRATION = Object.keys(PG_MIGRATIONS).sort().at(-1)!;

export const pgMigrations: MigrationProvider = {
  getMigrations: async () => PG_MIGRATIONS,
};
