/**
 * Ledger writes off the streaming path. bun:sqlite is synchronous: a write that waited for another
 * process's write lock (busy_timeout) would freeze the proxy's whole event loop, every stream included, for
 * as long as the lock is held. So the writer queues usage rows and audit records, and writes them on a later
 * turn of the event loop through its own connection with no busy timeout: BEGIN IMMEDIATE either gets the
 * lock at once or fails with SQLITE_BUSY, and then the batch is retried from a timer (2 ms doubling to
 * 100 ms) while the proxy keeps relaying. Everything queued goes in one transaction. A batch that still
 * cannot be written after `giveUpMs` is logged with its tokens, never silently dropped.
 */
import { Database as Sqlite } from "bun:sqlite";
import type { CompiledQuery } from "kysely";
import { log } from "../log.ts";
import type { AuditRecord } from "../proxy/hooks.ts";
import { auditRow, insertAudit } from "./audit.ts";
import type { LedgerDb } from "./database.ts";
import { ledgerFileOf } from "./open.ts";
import { immediate, isBusy } from "./tx.ts";
import { insertUsage, usageRow, type UsageEvent } from "./usage.ts";

interface Pending {
  event: UsageEvent;
  resolve(): void;
  reject(e: unknown): void;
}

export interface LedgerWriterOptions {
  /** How long a batch keeps retrying a busy ledger before it is given up (logged). Default 60 s. */
  giveUpMs?: number;
}


export class LedgerWriter {
  private usageQueue: Pending[] = [];
  private auditQueue: AuditRecord[] = [];
  private scheduled = false;
  private running = false;
  private idle: Array<() => void> = [];
  private side: Sqlite | undefined;
  private ready: Promise<unknown> | undefined;
  /** Rows that could not be written. */
  failed = 0;
  /** Attempts that found the ledger locked and were retried later. */
  busyRetries = 0;

  constructor(
    private readonly db: LedgerDb,
    private readonly o: LedgerWriterOptions = {},
  ) {}

  /** Queues a usage row; resolves once it is committed, rejects if it could not be written. */
  usage(event: UsageEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.usageQueue.push({ event, resolve, reject });
      this.schedule();
    });
  }

  /** Queues an audit record (fire and forget; a failure is logged). */
  audit(record: AuditRecord): void {
    this.auditQueue.push(record);
    this.schedule();
  }

  /** Resolves when everything queued so far has been written (or given up). */
  flush(): Promise<void> {
    if (!this.scheduled && !this.running && this.usageQueue.length === 0 && this.auditQueue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Flushes and closes the writer's own connection. */
  async close(): Promise<void> {
    await this.flush();
    this.side?.close();
    this.side = undefined;
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
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
        const usage = this.usageQueue.splice(0);
        const audit = this.auditQueue.splice(0);
        try {
          await this.write(usage.map((p) => p.event), audit);
          for (const p of usage) p.resolve();
        } catch (e) {
          this.failed += usage.length + audit.length;
          const tokens = usage.reduce((a, p) => a + p.event.totalTokens, 0);
          log.error(`ledger: could not record ${usage.length} usage row(s) (${tokens} tokens) and ${audit.length} audit record(s): ${String(e)}`);
          for (const p of usage) p.reject(e);
        }
      }
    } finally {
      this.running = false;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private async write(usage: UsageEvent[], audit: AuditRecord[]): Promise<void> {
    // The schema must exist before the side connection writes (connectLedger migrates on first query).
    await (this.ready ??= this.db.selectFrom("runs").select("id").limit(1).execute());
    const file = ledgerFileOf(this.db);
    if (!file) {
      // Not a ledger file we opened (another dialect): write through its own connection.
      await immediate(this.db, async (conn) => {
        await insertUsage(conn, usage);
        await insertAudit(conn, audit);
      });
      return;
    }
    const queries = this.compile(usage, audit);
    const deadline = Date.now() + (this.o.giveUpMs ?? 60_000);
    for (let delay = 2; ; delay = Math.min(100, delay * 2)) {
      try {
        this.commit(file, queries);
        return;
      } catch (e) {
        if (!isBusy(e) || Date.now() > deadline) throw e;
        this.busyRetries++;
        await Bun.sleep(delay);
      }
    }
  }

  /** Compiles the inserts with kysely (nothing executes); rows in chunks well under SQLite's parameter limit. */
  private compile(usage: UsageEvent[], audit: AuditRecord[]): CompiledQuery[] {
    const out: CompiledQuery[] = [];
    for (let i = 0; i < usage.length; i += 200) out.push(this.db.insertInto("usage_events").values(usage.slice(i, i + 200).map(usageRow)).compile());
    for (let i = 0; i < audit.length; i += 500) out.push(this.db.insertInto("egress_audit").values(audit.slice(i, i + 500).map(auditRow)).compile());
    return out;
  }

  /** One synchronous BEGIN IMMEDIATE … COMMIT on the writer's connection; throws SQLITE_BUSY at once if locked. */
  private commit(file: string, queries: CompiledQuery[]): void {
    if (!this.side) {
      this.side = new Sqlite(file);
      this.side.exec("pragma busy_timeout = 0");
      this.side.exec("pragma synchronous = normal");
    }
    const side = this.side;
    side.exec("begin immediate");
    try {
      for (const q of queries) side.query(q.sql).run(...(q.parameters as never[]));
      side.exec("commit");
    } catch (e) {
      if (!side.inTransaction) throw e;
      side.exec("rollback");
      throw e;
    }
  }
}
