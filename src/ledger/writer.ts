/**
 * Ledger writes off the streaming path. bun:sqlite is synchronous, so a write made where the proxy relays
 * bytes would hold up every stream in the process for as long as it takes. The writer queues usage rows and
 * audit records and writes them on a later turn of the event loop (after the response's last bytes were
 * handed to the socket), all queued rows in one BEGIN IMMEDIATE transaction. A busy ledger is retried with
 * backoff; a row that still cannot be written is logged with its tokens, never silently dropped.
 */
import { log } from "../log.ts";
import type { AuditRecord } from "../proxy/hooks.ts";
import { insertAudit } from "./audit.ts";
import type { LedgerDb } from "./database.ts";
import { immediate } from "./tx.ts";
import { insertUsage, type UsageEvent } from "./usage.ts";

interface Pending {
  event: UsageEvent;
  resolve(): void;
  reject(e: unknown): void;
}

export interface LedgerWriterOptions {
  /** Attempts after the first for a transient failure (SQLITE_BUSY/LOCKED). */
  retries?: number;
  retryDelayMs?: number;
}

function transient(e: unknown): boolean {
  return /SQLITE_(BUSY|LOCKED)/.test(String((e as { code?: unknown }).code ?? ""));
}

export class LedgerWriter {
  private usageQueue: Pending[] = [];
  private auditQueue: AuditRecord[] = [];
  private scheduled = false;
  private busy = false;
  private idle: Array<() => void> = [];
  /** Rows that could not be written (after retries). */
  failed = 0;

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

  /** Queues an audit record (fire and forget; failures are logged). */
  audit(record: AuditRecord): void {
    this.auditQueue.push(record);
    this.schedule();
  }

  /** Resolves when everything queued so far has been written (or has failed). */
  flush(): Promise<void> {
    if (!this.scheduled && !this.busy && this.usageQueue.length === 0 && this.auditQueue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.scheduled || this.busy) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
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
        // Let the proxy relay between two batches of a long backlog.
        if (this.usageQueue.length > 0 || this.auditQueue.length > 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.busy = false;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private async write(usage: UsageEvent[], audit: AuditRecord[]): Promise<void> {
    const retries = this.o.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      try {
        await immediate(this.db, async (conn) => {
          await insertUsage(conn, usage);
          await insertAudit(conn, audit);
        });
        return;
      } catch (e) {
        if (attempt >= retries || !transient(e)) throw e;
        await Bun.sleep((this.o.retryDelayMs ?? 50) * 2 ** attempt);
      }
    }
  }
}
