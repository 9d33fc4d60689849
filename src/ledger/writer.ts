/**
 * Ledger writes off the streaming path, and never lost. bun:sqlite is synchronous: a write that waited for
 * another process's write lock (busy_timeout) would freeze the proxy's whole event loop, every stream
 * included, for as long as the lock is held. So the writer queues usage rows and audit records, and writes
 * them on a later turn of the event loop through its own connection with no busy timeout: BEGIN IMMEDIATE
 * either gets the lock at once or fails with SQLITE_BUSY, and then the batch is retried from a timer (2 ms
 * doubling to 100 ms) while the proxy keeps relaying. Everything queued goes in one transaction, with the
 * running totals the rows add to and the release of the reservations the rows settle: a request's charge
 * and the end of its hold on the budget are one commit.
 *
 * A batch that cannot be written (a full disk, a read-only or damaged file, a lock held past `giveUpMs`)
 * is never dropped: it stays queued, `problem` names the ledger and the cause, and the run's admission
 * refuses (retryably) until a later attempt, every `retryMs`, writes it. The promise `usage()` returned
 * rejects at the first failure so the exchange can end; its row is still written later.
 */
import { Database as Sqlite } from "bun:sqlite";
import { log } from "../log.ts";
import type { AuditRecord } from "../proxy/hooks.ts";
import { insertAudit } from "./audit.ts";
import type { LedgerDb } from "./database.ts";
import { randomUUID } from "node:crypto";
import { isPostgres } from "./dialect.ts";
import { ledgerFileOf, ledgerLocation } from "./open.ts";
import { appendSpool, dropSpool, orphanSpools, readSpool, spoolFileFor } from "./spool.ts";
import type { TotalsCharge } from "./totals.ts";
import { immediate, isBusy } from "./tx.ts";
import { insertUsage, insertUsageOnce, totalsChargesOf, usageRow, type UsageEvent } from "./usage.ts";
import { auditInsert, chargeUpdate, releaseUpdate, usageInsert, type RowStatement } from "./writer-statements.ts";

/** A usage row, and the reservation (if any) its exchange held, released in the row's transaction. */
export interface Charge {
  event: UsageEvent;
  reservationId?: string;
}

interface Pending extends Charge {
  settled: boolean;
  /** Fleet ledger: the row's unique id, and whether it is already in this writer's spool file. */
  uid?: string;
  spooled?: boolean;
  resolve(): void;
  reject(e: unknown): void;
}

export interface LedgerWriterOptions {
  /** How long a batch keeps retrying a locked ledger before it counts as a problem. Default 10 s (the busy timeout). */
  giveUpMs?: number;
  /** How often a batch that could not be written is tried again. Default 1 s. */
  retryMs?: number;
  /** How soon after a commit the writer checkpoints the WAL itself. Default 1 s. */
  checkpointMs?: number;
  /** Commits after which it checkpoints at once, so the WAL stays bounded under constant load. Default 500. */
  checkpointEvery?: number;
}

/** Why the writer cannot record usage right now. */
export interface WriterProblem {
  file: string;
  cause: string;
  since: number;
  /** Rows waiting to be written. */
  rows: number;
  tokens: number;
}

export class LedgerWriter {
  private usageQueue: Pending[] = [];
  private auditQueue: AuditRecord[] = [];
  private scheduled = false;
  private running = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private idle: Array<() => void> = [];
  private side: Sqlite | undefined;
  private checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  private commitsSinceCheckpoint = 0;
  private ready: Promise<unknown> | undefined;
  private failure: { cause: string; since: number } | undefined;
  private spoolFile: string | undefined;
  /** Rows that could not be written at the first attempt (they stay queued). */
  failed = 0;
  /** Attempts that found the ledger locked and were retried later. */
  busyRetries = 0;

  constructor(
    private readonly db: LedgerDb,
    private readonly o: LedgerWriterOptions = {},
  ) {}

  /** Queues a usage row; resolves once it is committed, rejects when the first attempt to write it fails. */
  usage(event: UsageEvent, reservationId?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.usageQueue.push({ event, ...(reservationId ? { reservationId } : {}), settled: false, resolve, reject });
      this.schedule();
    });
  }

  /** Queues an audit record (fire and forget; kept until it is written). */
  audit(record: AuditRecord): void {
    this.auditQueue.push(record);
    this.schedule();
  }

  /** Set while usage cannot be recorded: admission must refuse until it clears. */
  get problem(): WriterProblem | undefined {
    if (!this.failure) return undefined;
    const rows = this.usageQueue.length;
    return { file: ledgerLocation(this.db) ?? "the ledger", ...this.failure, rows, tokens: this.usageQueue.reduce((a, p) => a + usageRow(p.event).total_tokens, 0) };
  }

  /** Resolves when everything queued so far has been written, or an attempt to write it has failed. */
  flush(): Promise<void> {
    if (!this.scheduled && !this.running && (this.failure || (this.usageQueue.length === 0 && this.auditQueue.length === 0))) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Flushes (one last attempt if a problem is pending), then closes the writer's own connection. */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.failure && !this.running) void this.drain();
    await this.flush();
    const p = this.problem;
    if (p && p.rows + this.auditQueue.length > 0) {
      log.error(`ledger: ${p.rows} usage row(s) (${p.tokens} tokens) and ${this.auditQueue.length} audit record(s) could not be recorded in ${p.file} before the run ended: ${p.cause}`);
    }
    if (this.commitsSinceCheckpoint > 0) this.checkpoint();
    this.side?.close();
    this.side = undefined;
  }

  /**
   * PASSIVE checkpoint on the writer's connection: copies what it can, never waits for a lock or a reader,
   * and gives up quietly when busy (the next one, or any other connection's, copies the rest).
   */
  private checkpoint(): void {
    this.commitsSinceCheckpoint = 0;
    try {
      this.side?.exec("pragma wal_checkpoint(passive)");
    } catch {
      // busy or read-only: the WAL keeps the commits, which are durable there
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.failure) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.usageQueue.length > 0 || this.auditQueue.length > 0) {
        const usage = this.usageQueue.slice();
        const audit = this.auditQueue.slice();
        try {
          await this.write(usage, audit);
        } catch (e) {
          const cause = describe(e);
          // Reopened for the retry: a handle SQLite opened read-only (the file was) stays read-only.
          this.side?.close();
          this.side = undefined;
          if (!this.failure) log.error(`ledger: could not record ${usage.length} usage row(s) and ${audit.length} audit record(s), kept to retry; requests are refused until they are written: ${cause}`);
          this.failure = { cause, since: this.failure?.since ?? Date.now() };
          for (const p of usage) {
            if (p.settled) continue;
            p.settled = true;
            this.failed++;
            p.reject(e);
          }
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            if (!this.running) void this.drain();
          }, this.o.retryMs ?? 1000);
          return;
        }
        this.usageQueue.splice(0, usage.length);
        this.auditQueue.splice(0, audit.length);
        if (this.failure) log.info(`ledger: recording works again; ${usage.length} usage row(s) kept since ${new Date(this.failure.since).toISOString()} are written`);
        this.failure = undefined;
        for (const p of usage) {
          if (p.settled) continue;
          p.settled = true;
          p.resolve();
        }
      }
    } finally {
      this.running = false;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private async write(usage: Charge[], audit: AuditRecord[]): Promise<void> {
    // The schema must exist before the side connection writes (connectLedger migrates on first query).
    await (this.ready ??= this.db.selectFrom("runs").select("id").limit(1).execute().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    }));
    const events = usage.map((c) => c.event);
    const released = usage.flatMap((c) => (c.reservationId ? [{ id: c.reservationId, at: c.event.at, tokens: usageRow(c.event).total_tokens }] : []));
    const file = ledgerFileOf(this.db);
    if (!file) {
      if (isPostgres(this.db)) return this.writeFleet(usage as Pending[], audit);
      // Not a ledger file we opened: write through its own connection.
      await immediate(this.db, async (conn) => {
        await insertUsage(conn, events);
        for (const r of released) await releaseQuery(conn, r).execute();
        await insertAudit(conn, audit);
      });
      return;
    }
    const queries = this.compile(events, audit, await totalsChargesOf(this.db, events, this), released);
    const deadline = Date.now() + (this.o.giveUpMs ?? 10_000);
    for (let delay = 2; ; delay = Math.min(100, delay * 2)) {
      try {
        this.commit(file, queries);
        return;
      } catch (e) {
        if (!isBusy(e)) throw e;
        if (Date.now() > deadline) throw new Error(`another process has held the ledger's write lock for over ${Math.round((this.o.giveUpMs ?? 10_000) / 1000)} s`, { cause: e });
        this.busyRetries++;
        await Bun.sleep(delay);
      }
    }
  }

  /**
   * A fleet ledger (Postgres): rows carry a unique id and are inserted once. A batch that cannot be
   * committed (the database is down) is appended to this writer's spool file before the failure is
   * reported, so delivered usage outlives this process; the file is dropped once everything is written.
   * Spool files left by dead processes are replayed first.
   */
  private async writeFleet(usage: Pending[], audit: AuditRecord[]): Promise<void> {
    for (const p of usage) p.uid ??= randomUUID();
    const rows = usage.map((p) => ({ uid: p.uid!, event: p.event, ...(p.reservationId ? { reservationId: p.reservationId } : {}) }));
    try {
      for (const orphan of orphanSpools()) {
        const left = readSpool(orphan);
        await immediate(this.db, (conn) => insertUsageOnce(conn, left));
        dropSpool(orphan);
      }
      await immediate(this.db, async (conn) => {
        await insertUsageOnce(conn, rows);
        await insertAudit(conn, audit);
      });
    } catch (e) {
      const unspooled = usage.filter((p) => !p.spooled);
      if (unspooled.length > 0) {
        appendSpool((this.spoolFile ??= spoolFileFor()), rows.filter((r) => unspooled.some((p) => p.uid === r.uid)));
        for (const p of unspooled) p.spooled = true;
      }
      throw e;
    }
    if (this.spoolFile && this.usageQueue.length === usage.length) {
      dropSpool(this.spoolFile);
      this.spoolFile = undefined;
    }
  }

  /** The batch's statements, one row each, from fixed texts (writer-statements.ts): nothing is compiled per row. */
  private compile(usage: UsageEvent[], audit: AuditRecord[], charges: TotalsCharge[], released: Release[]): RowStatement[] {
    const out: RowStatement[] = [];
    for (const e of usage) out.push(usageInsert(e));
    for (const c of charges) if (c.scopes.length > 0) out.push(chargeUpdate(c));
    for (const r of released) out.push(releaseUpdate(r));
    for (const a of audit) out.push(auditInsert(a));
    return out;
  }

  /** One synchronous BEGIN IMMEDIATE … COMMIT on the writer's connection; throws SQLITE_BUSY at once if locked. */
  private commit(file: string, queries: RowStatement[]): void {
    if (!this.side) {
      this.side = new Sqlite(file);
      this.side.exec("pragma busy_timeout = 0");
      this.side.exec("pragma synchronous = normal");
      // SQLite's automatic checkpoint runs inside the commit that pushes the WAL past 1,000 pages: every
      // ~140 single-row commits, each copying pages back and syncing the file. Measured on this machine it
      // made a one-row commit 2.7-4x as costly as the same commit with the checkpoint taken later in bulk,
      // where the pages rewritten by every commit (the usage table's and its indexes' last pages, the
      // totals' rows) are copied once. So the writer checkpoints itself, off the commit: `checkpointMs`
      // after a commit, or at once every `checkpointEvery` commits.
      this.side.exec("pragma wal_autocheckpoint = 0");
    }
    const side = this.side;
    side.exec("begin immediate");
    try {
      // Statements are cached by SQL text: every row reuses the same few prepared statements.
      for (const q of queries) side.query(q.sql).run(...q.params);
      side.exec("commit");
      if (++this.commitsSinceCheckpoint >= (this.o.checkpointEvery ?? 500)) this.checkpoint();
      else if (!this.checkpointTimer) {
        this.checkpointTimer = setTimeout(() => {
          this.checkpointTimer = undefined;
          // Never inside a transaction: commit() is synchronous, so the side connection is between batches.
          this.checkpoint();
        }, this.o.checkpointMs ?? 1000);
        this.checkpointTimer.unref?.();
      }
    } catch (e) {
      if (side.inTransaction) side.exec("rollback");
      throw e;
    }
  }
}

interface Release {
  id: string;
  at: number;
  tokens: number;
}

function releaseQuery(db: LedgerDb, r: Release) {
  return db.updateTable("reservations").set({ released_at: r.at, settled_tokens: r.tokens }).where("id", "=", r.id).where("released_at", "is", null);
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return typeof code === "string" && !msg.includes(code) ? `${msg} (${code})` : msg;
}
