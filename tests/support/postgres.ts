/**
 * A real PostgreSQL for the fleet-mode tests: the throwaway loopback cluster that scripts/start-postgres.sh
 * starts (idempotently, as the unprivileged postgres user), and a fresh database per ledger so that tests
 * never see each other's rows. `BOTTLE_TEST_LEDGER=postgres` makes `ledgerFile()` (tests/support/enforce-db.ts)
 * hand out such databases, which is how the ledger, budget and enforcement suites run on both dialects.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const REPO = join(import.meta.dir, "..", "..");
let base: string | undefined;

/** The cluster's URL (its `postgres` database), starting the cluster if it is not running. */
export function pgServerUrl(): string {
  if (base) return base;
  if (process.env.BOTTLE_TEST_PG_URL) return (base = process.env.BOTTLE_TEST_PG_URL);
  const r = spawnSync("bash", [join(REPO, "scripts/start-postgres.sh")], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`could not start the test PostgreSQL cluster: ${r.stderr || r.error?.message}`);
  base = r.stdout.trim().split("\n").at(-1)!;
  process.env.BOTTLE_TEST_PG_URL = base;
  return base;
}

/** Runs one SQL statement on the cluster's `postgres` database (synchronously, through psql). */
export function psql(statement: string, url = pgServerUrl()): string {
  const r = spawnSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-qAtc", statement], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`psql failed (${statement}): ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

/** A new, empty database on the test cluster, as a ledger URL. */
export function freshPgLedger(): string {
  const name = `bottle_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  psql(`create database ${name}`);
  const u = new URL(pgServerUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

export const onPostgres = (): boolean => process.env.BOTTLE_TEST_LEDGER === "postgres";

/** A cluster of the test's own (its own directory and port), for tests that stop and restart the database. */
export interface OwnCluster {
  url: string;
  stop(): void;
  start(): void;
  destroy(): void;
}

export function ownCluster(): OwnCluster {
  const dir = `/var/tmp/bottle-pg-own-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const port = String(56000 + Math.floor(Math.random() * 2000));
  const env = { ...process.env, BOTTLE_PG_DIR: dir, BOTTLE_PG_PORT: port };
  const start = () => {
    const r = spawnSync("bash", [join(REPO, "scripts/start-postgres.sh")], { encoding: "utf8", env, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`could not start a PostgreSQL cluster in ${dir}: ${r.stderr}`);
    return r.stdout.trim().split("\n").at(-1)!;
  };
  const server = start();
  const pgCtl = (...args: string[]) => {
    const bin = spawnSync("bash", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1"], { encoding: "utf8" }).stdout.trim();
    const cmd = [`${bin}/pg_ctl`, "-D", `${dir}/data`, ...args];
    const r = process.getuid?.() === 0 ? spawnSync("runuser", ["-u", "postgres", "--", ...cmd], { encoding: "utf8", timeout: 60_000 }) : spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", timeout: 60_000 });
    return r;
  };
  psql("create database fleet", server);
  const u = new URL(server);
  u.pathname = "/fleet";
  return {
    url: u.toString(),
    stop: () => {
      const r = pgCtl("stop", "-m", "fast", "-w");
      if (r.status !== 0) throw new Error(`pg_ctl stop failed: ${r.stderr}`);
    },
    start: () => void start(),
    destroy: () => {
      pgCtl("stop", "-m", "immediate", "-w");
      spawnSync("rm", ["-rf", dir]);
    },
  };
}
