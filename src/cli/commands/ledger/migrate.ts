/**
 * `bottle ledger migrate --to postgres://… [--from FILE] [--json]`: moves a host to a fleet by copying its
 * SQLite ledger (settings.yml `ledger:` when it names a file, else `$BOTTLE_HOME/bottle.db`; never the
 * fleet URL itself) into the shared PostgreSQL ledger. Idempotent: run it again, or later after more usage,
 * and it adds only what it has not copied before (src/ledger/copy.ts). Prints what it added per table.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { defineCommand } from "citty";
import { UsageError } from "../../../errors.ts";
import { hostName } from "../../../host-name.ts";
import { COPIED_TABLES, copyLedger, sourceIdentity } from "../../../ledger/copy.ts";
import { isPostgresUrl, redactUrl } from "../../../ledger/dialect.ts";
import { openLedger } from "../../../ledger/index.ts";
import { log } from "../../../log.ts";
import { loadSettings } from "../../../manifest/settings.ts";
import { bottleHome, homePaths } from "../../../paths.ts";
import { printJson } from "../../ledger-session.ts";

/** This host's SQLite ledger: `--from`, else settings.yml's `ledger:` when it is a file, else the default. */
function sqliteLedger(from: string | undefined, configured: string | undefined, home: string): string {
  const p = from ?? (configured && !isPostgresUrl(configured) ? configured : undefined);
  if (!p) return homePaths(home).ledger;
  if (isPostgresUrl(p)) throw new UsageError(`--from ${redactUrl(p)} is a PostgreSQL URL`, { key: "--from", fix: "give the SQLite ledger file to copy (default $BOTTLE_HOME/bottle.db)" });
  return isAbsolute(p) ? p : resolve(home, p);
}

export default defineCommand({
  meta: { name: "migrate", description: "Copy this host's SQLite ledger into a PostgreSQL fleet ledger (once; re-running copies only what is new)." },
  args: {
    to: { type: "string", description: "the fleet ledger: postgres://user@host/db (credentials: the URL, PG* variables or ~/.pgpass)" },
    from: { type: "string", description: "the SQLite ledger to copy (default: settings.yml `ledger:` when it is a file, else $BOTTLE_HOME/bottle.db)" },
    json: { type: "boolean", description: "Print {from, to, source, copied: {table: rows}, closed} as JSON." },
  },
  async run({ args }) {
    const to = args.to;
    if (!to) throw new UsageError("bottle ledger migrate needs --to", { key: "--to", fix: "give the fleet ledger, e.g. --to postgres://bottle@db.internal/bottle" });
    if (!isPostgresUrl(to)) throw new UsageError(`--to ${to} is not a PostgreSQL URL`, { key: "--to", fix: "give a postgres://user@host/db URL" });
    const home = bottleHome();
    const from = sqliteLedger(args.from, loadSettings(home).ledger, home);
    if (!existsSync(from)) throw new UsageError(`there is no SQLite ledger at ${from} to copy`, { key: "--from", fix: "give the ledger file with --from (see settings.yml `ledger:`)" });
    const lite = await openLedger({ path: from, createDir: false });
    try {
      const pg = await openLedger({ path: to });
      try {
        const source = sourceIdentity(hostName(), from);
        const r = await copyLedger(lite, pg, { source, host: hostName() });
        if (args.json) printJson({ from, to: redactUrl(to), source, copied: r.copied, closed: r.closed });
        else {
          log.info(`copied ${from} into ${redactUrl(to)} (source ${source}):`);
          for (const t of COPIED_TABLES) log.info(`  ${t.padEnd(20)} ${r.copied[t]}`);
          if (r.closed.runs + r.closed.reservations > 0) log.info(`  closed since the last copy: ${r.closed.runs} run(s), ${r.closed.reservations} reservation(s)`);
          log.info("running totals are rebuilt from the copied usage at the next admission");
        }
      } finally {
        await pg.destroy();
      }
    } finally {
      await lite.destroy();
    }
  },
});
