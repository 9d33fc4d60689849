/**
 * The local spool of a fleet ledger: usage delivered while the shared database cannot be reached. A run
 * stops admitting the moment its usage cannot be written (DESIGN §4), but the requests already in flight
 * finish and their usage must not be lost, nor charged twice. So a batch the writer could not commit is
 * appended to a file under `$BOTTLE_HOME/spool/` (fsynced) before the writer reports the failure, every row
 * carrying the writer's unique id; the database's unique index on `usage_events.uid` turns every later
 * attempt into "insert once". The file goes away when its rows are committed; a file left by a process that
 * died is replayed by the next bottle process that writes to the ledger.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { bottleHome } from "../paths.ts";
import type { UsageEvent } from "./usage.ts";

/** One spooled usage row: the event, its unique id, and the reservation its commit releases. */
export interface SpooledCharge {
  uid: string;
  event: UsageEvent;
  reservationId?: string;
}

export function spoolDir(home = bottleHome()): string {
  return join(home, "spool");
}

const FILE = /^(\d+)-[a-z0-9]+\.jsonl$/;

/** This process's spool file (one per writer). */
export function spoolFileFor(pid = process.pid, home = bottleHome()): string {
  return join(spoolDir(home), `${pid}-${Math.random().toString(36).slice(2, 10)}.jsonl`);
}

/** Appends rows durably (written and fsynced before it returns). */
export function appendSpool(file: string, rows: readonly SpooledCharge[]): void {
  if (rows.length === 0) return;
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  const fd = openSync(file, "a", 0o600);
  try {
    writeSync(fd, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every row in a spool file (a torn last line, from a crash mid-append, is skipped: it was never reported written). */
export function readSpool(file: string): SpooledCharge[] {
  if (!existsSync(file)) return [];
  const out: SpooledCharge[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as SpooledCharge;
      if (typeof r.uid === "string" && r.event && typeof r.event.runId === "string") out.push(r);
    } catch {
      // torn write
    }
  }
  return out;
}

export function dropSpool(file: string): void {
  rmSync(file, { force: true });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
};

/** Spool files whose writer process is gone (theirs to replay), or every file when `all`. */
export function orphanSpools(home = bottleHome(), all = false): string[] {
  const dir = spoolDir(home);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => {
      const m = FILE.exec(f);
      return m !== null && (all || (Number(m[1]) !== process.pid && !alive(Number(m[1]))));
    })
    .map((f) => join(dir, f));
}

/** How much usage waits in this home's spool (for `bottle budget usage`). */
export function spooledUsage(home = bottleHome()): { rows: number; tokens: number; files: number } {
  const files = orphanSpools(home, true);
  let rows = 0;
  let tokens = 0;
  for (const f of files) {
    for (const r of readSpool(f)) {
      rows++;
      tokens += Number.isFinite(r.event.totalTokens) ? r.event.totalTokens : 0;
    }
  }
  return { rows, tokens, files: files.length };
}
