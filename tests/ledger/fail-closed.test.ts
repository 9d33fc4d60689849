/**
 * The ledger fails closed, on real processes and a real file: the real `bottle proxy` CLI in its own
 * process, a real HTTP client through it, and faults made to the ledger from outside while it runs:
 *
 * - the disk fills up (a 2 MB tmpfs as BOTTLE_HOME; skipped, saying so, only where mounting is impossible);
 * - the ledger file becomes read-only (a read-only bind mount over it);
 * - a page of an index is corrupted;
 * - another process holds the write lock past the busy timeout;
 * - an empty file where the ledger was.
 *
 * In each case the request after the fault is not sent: it gets a retryable 503 with retry-after in the
 * provider's format, naming the ledger and the cause (never the budget refusal), no usage is lost (what
 * was delivered is written once the fault is gone), and admission resumes on its own.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLedger } from "../../src/ledger/index.ts";
import { MAIN, sendMessage, startBottleProxy, type BottleProxy, type Sent } from "../support/bottle-proxy.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});

function freshHome(): string {
  return mkdtempSync(join(process.env.TMPDIR!, "fail-closed-"));
}

async function proxyIn(home: string, args: string[] = []): Promise<BottleProxy> {
  const p = await startBottleProxy(home, args);
  cleanups.push(() => p.stop("SIGKILL"));
  return p;
}

/** A retryable refusal that names the ledger and the cause, in Anthropic's error format. */
async function expectLedgerRefusal(r: Sent, file: string, cause: RegExp): Promise<void> {
  expect(r.status).toBe(503);
  expect(r.headers.get("retry-after")).toBe("2");
  expect(r.headers.get("x-should-retry")).toBe("true");
  expect(r.headers.get("x-bottle-refusal")).toBe("ledger");
  const body = JSON.parse(r.body) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe("error");
  expect(body.error.type).toBe("overloaded_error");
  expect(body.error.message).toContain(file);
  expect(body.error.message).toMatch(cause);
  expect(body.error.message).toContain("not a budget refusal");
}

async function usageRows(file: string, runId: string): Promise<number> {
  const db = await openLedger({ path: file });
  try {
    const r = await db.selectFrom("usage_events").select((eb) => eb.fn.countAll<number>().as("n")).where("run_id", "=", runId).where("kind", "=", "usage").executeTakeFirstOrThrow();
    return Number(r.n);
  } finally {
    await db.destroy();
  }
}

/** Sends until one is admitted again (the writer retries every second), at most `tries` times. */
async function untilAdmitted(p: BottleProxy, tries = 20): Promise<Sent> {
  for (let i = 0; ; i++) {
    const r = await sendMessage(p);
    if (r.status === 200 || i >= tries) return r;
    await Bun.sleep(500);
  }
}

const run = (cmd: string[]) => Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });

describe("disk full", () => {
  // Can this machine mount a tmpfs at all? (Probed, then unmounted at once.)
  const probe = mkdtempSync(join(process.env.TMPDIR!, "tmpfs-probe-"));
  const mounted = run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", probe]);
  if (mounted.exitCode === 0) run(["umount", probe]);
  else console.warn(`SKIPPED disk-full test: cannot mount a tmpfs here (${mounted.stderr.toString().trim()})`);
  test.skipIf(mounted.exitCode !== 0)("a 2 MB tmpfs as BOTTLE_HOME: after the disk fills, nothing more is sent until the usage is written", async () => {
    const dir = mkdtempSync(join(process.env.TMPDIR!, "tmpfs-"));
    expect(run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir]).exitCode).toBe(0);
    cleanups.push(() => run(["umount", "-l", dir]));
    const p = await proxyIn(dir, ["--budget", "300"]);
    const file = join(dir, "bottle.db");
    expect((await sendMessage(p)).complete).toBe(true);
    // Fill the file system to the last byte.
    const filler = join(dir, "filler");
    run(["dd", "if=/dev/zero", `of=${filler}`, "bs=64k"]);
    run(["dd", "if=/dev/zero", `of=${filler}-tail`, "bs=512"]);
    const after: Sent[] = [];
    for (let i = 0; i < 10; i++) after.push(await sendMessage(p));
    const forwarded = after.filter((r) => r.status === 200);
    // The first may already be on its way when the full disk is found (its row is kept); none after it.
    expect(forwarded.length).toBeLessThanOrEqual(1);
    for (const r of after.filter((x) => x.status !== 200)) await expectLedgerRefusal(r, file, /disk is full|SQLITE_FULL/);
    expect(after.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(9);

    // Space again: the kept row is written and admission resumes by itself.
    rmSync(filler);
    rmSync(`${filler}-tail`);
    expect((await untilAdmitted(p)).complete).toBe(true);
    expect(await p.stop()).toBe(0);
    expect(p.stderr()).toContain("recording works again");
    // Every request that went upstream is in the ledger.
    expect(await usageRows(file, p.runId)).toBe(1 + forwarded.length + 1);
  }, 90_000);
});

describe("read-only ledger file mid-run", () => {
  test("requests are refused (retryable) while it is read-only; the delivered usage is written after", async () => {
    const home = freshHome();
    const p = await proxyIn(home, ["--budget", "300"]);
    const file = join(home, "bottle.db");
    // A read-only bind mount over the file: new opens of it are read-only, as after `chmod a-w` for a user.
    expect(run(["mount", "--bind", file, file]).exitCode).toBe(0);
    cleanups.push(() => run(["umount", "-l", file]));
    expect(run(["mount", "-o", "remount,bind,ro", file]).exitCode).toBe(0);
    const during: Sent[] = [];
    for (let i = 0; i < 5; i++) during.push(await sendMessage(p));
    const forwarded = during.filter((r) => r.status === 200).length;
    expect(forwarded).toBeLessThanOrEqual(1);
    for (const r of during.filter((x) => x.status !== 200)) await expectLedgerRefusal(r, file, /readonly|read-only/);

    // Lazily: the proxy has the file open through the read-only mount until its writer reopens it.
    expect(run(["umount", "-l", file]).exitCode).toBe(0);
    expect((await untilAdmitted(p)).complete).toBe(true);
    expect(await p.stop()).toBe(0);
    expect(await usageRows(file, p.runId)).toBe(forwarded + 1);
  }, 90_000);
});

/** Overwrites the first page of index `name` with garbage (after checkpointing, so the file holds it). */
function corruptIndex(file: string, name: string): void {
  const raw = new Database(file);
  raw.exec("pragma wal_checkpoint(TRUNCATE)");
  const { rootpage } = raw.query<{ rootpage: number }, [string]>("select rootpage from sqlite_master where name = ?").get(name)!;
  const { page_size } = raw.query<{ page_size: number }, []>("pragma page_size").get()!;
  raw.close();
  const fd = require("node:fs").openSync(file, "r+");
  require("node:fs").writeSync(fd, Buffer.alloc(page_size, 0xa5), 0, page_size, (rootpage - 1) * page_size);
  require("node:fs").closeSync(fd);
}

describe("a corrupted page", () => {
  test("found on use: requests are refused (retryable), never counted against stale sums; a new open refuses the file", async () => {
    const home = freshHome();
    const p = await proxyIn(home, ["--budget", "5000"]);
    const file = join(home, "bottle.db");
    expect((await sendMessage(p)).complete).toBe(true);
    corruptIndex(file, "usage_time");
    const after: Sent[] = [];
    for (let i = 0; i < 10; i++) after.push(await sendMessage(p));
    expect(after.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
    for (const r of after.filter((x) => x.status !== 200)) await expectLedgerRefusal(r, file, /malformed|corrupt/i);
    await p.stop("SIGKILL");

    // The next start finds the damage (quick_check) and refuses the file instead of using it.
    const show = Bun.spawn(["bun", MAIN, "budget", "show"], { env: { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(show.stderr).text(), show.exited]);
    expect(code).not.toBe(0);
    expect(err).toContain(`the ledger at ${file} is damaged`);
    expect(err).toContain("bottle ledger check");
  }, 90_000);
});

describe("a lock held longer than the busy timeout", () => {
  test("the request gets a retryable 503 naming the lock, not the budget refusal; it goes through once the lock is free", async () => {
    const home = freshHome();
    const p = await proxyIn(home, ["--budget", "100000"]);
    const file = join(home, "bottle.db");
    expect((await sendMessage(p)).complete).toBe(true);
    const holder: Subprocess = Bun.spawn(["bun", join(import.meta.dir, "../support/hold-write-lock.ts"), file], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    cleanups.push(() => holder.kill("SIGKILL"));
    const reader = (holder.stdout as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("locked\n");
    // Pre-flight off admits on a read (no lock needed), so the first request goes upstream; its charge then
    // waits for the lock for the busy timeout (the stream does not end meanwhile) and is kept when it fails.
    const first = await sendMessage(p, 60_000);
    expect(first.complete).toBe(true);
    // From then on nothing more is sent: a retryable refusal that says what is wrong.
    const r = await sendMessage(p, 60_000);
    await expectLedgerRefusal(r, file, /held the ledger's write lock for over 10 s/);
    (holder.stdin as import("bun").FileSink).end();
    await holder.exited;
    expect((await untilAdmitted(p)).complete).toBe(true);
    expect(await p.stop()).toBe(0);
    expect(await usageRows(file, p.runId)).toBe(3);
  }, 90_000);
});

describe("a lock held longer than the busy timeout, pre-flight estimate", () => {
  test("the reservation cannot be written: a retryable 503 naming the lock, never the budget refusal", async () => {
    const home = freshHome();
    writeFileSync(join(home, "settings.yml"), "preflight: estimate\n");
    const p = await proxyIn(home, ["--budget", "100000"]);
    const file = join(home, "bottle.db");
    expect((await sendMessage(p)).complete).toBe(true);
    const holder: Subprocess = Bun.spawn(["bun", join(import.meta.dir, "../support/hold-write-lock.ts"), file], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    cleanups.push(() => holder.kill("SIGKILL"));
    expect(new TextDecoder().decode((await (holder.stdout as ReadableStream<Uint8Array>).getReader().read()).value)).toBe("locked\n");
    await expectLedgerRefusal(await sendMessage(p, 60_000), file, /held its write lock longer than the busy timeout/);
    (holder.stdin as import("bun").FileSink).end();
    await holder.exited;
    expect((await untilAdmitted(p)).complete).toBe(true);
  }, 90_000);
});

describe("an empty ledger file", () => {
  test("is an error naming the file, never a fresh start", async () => {
    const home = freshHome();
    const file = join(home, "bottle.db");
    const p = await proxyIn(home);
    expect((await sendMessage(p)).complete).toBe(true);
    await p.stop();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) rmSync(f);
    writeFileSync(file, "");
    const again = Bun.spawn(["bun", MAIN, "proxy", "--simulate", "--provider", "claude", "--json"], { env: { ...process.env, BOTTLE_HOME: home, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
    cleanups.push(() => again.kill("SIGKILL"));
    const [err, code] = await Promise.all([new Response(again.stderr).text(), again.exited]);
    expect(code).not.toBe(0);
    expect(err).toContain(`the ledger at ${file} is an empty file`);
    expect(Bun.file(file).size).toBe(0); // left as it was: not turned into a new ledger
  }, 60_000);
});
