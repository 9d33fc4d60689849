/**
 * SIGKILL with rows pending, on real processes and a real file. A `bottle proxy` (pre-flight `estimate`)
 * relays 5 streams; while their last event is held upstream, another process takes the ledger's write
 * lock, so the 5 usage rows cannot be committed; the upstream then finishes and the proxy is SIGKILLed.
 *
 * Charge before release means no client saw a finished stream whose usage was not recorded. The next
 * start (a second `bottle proxy` on the same home) charges the dead run's 5 reservations in full (whether
 * their responses arrived is unknown), marks the run crashed and records a crash action saying so.
 */
import { afterEach, expect, test } from "bun:test";
import type { FileSink, Subprocess } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkTotals, getRun, openLedger } from "../../src/ledger/index.ts";
import { startSimulator, type Simulator } from "../../src/simulator/server.ts";
import { sendMessage, startBottleProxy, type BottleProxy, type Sent } from "../support/bottle-proxy.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});

test("5 streams pending behind another process's lock, proxy SIGKILLed: no finished stream is unrecorded; the next start charges them", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let held = 0;
  const sim: Simulator = startSimulator({
    hostname: "127.0.0.1",
    async beforeEvent(i, total) {
      if (i !== total - 1) return;
      held++;
      await gate;
    },
  });
  cleanups.push(() => sim.close());
  const home = mkdtempSync(join(process.env.TMPDIR!, "crash-"));
  writeFileSync(join(home, "settings.yml"), "preflight: estimate\n");
  const file = join(home, "bottle.db");
  const first: BottleProxy = await startBottleProxy(home, ["--budget", "100000", "--upstream", sim.url]);
  cleanups.push(() => first.stop("SIGKILL"));

  const streams: Array<Promise<Sent | "cut">> = Array.from({ length: 5 }, () => sendMessage(first, 60_000).catch(() => "cut" as const));
  while (held < 5) await Bun.sleep(20);
  // Every stream is admitted (5 reservations written) and waits for its last event upstream.
  const holder: Subprocess = Bun.spawn(["bun", join(import.meta.dir, "../support/hold-write-lock.ts"), file], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  cleanups.push(() => holder.kill("SIGKILL"));
  expect(new TextDecoder().decode((await (holder.stdout as ReadableStream<Uint8Array>).getReader().read()).value)).toBe("locked\n");
  release();
  // The upstream has finished all 5; the proxy cannot commit their rows. Give it time to (wrongly) end them.
  await Bun.sleep(1000);
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  const results = await Promise.all(streams);
  const completeAtClient = results.filter((r) => r !== "cut" && r.complete).length;
  (holder.stdin as FileSink).end();
  await holder.exited;

  // Nothing the dead process wrote: its streams did not end for the clients either.
  let db = await openLedger({ path: file });
  const before = await db.selectFrom("usage_events").select(["total_tokens"]).where("run_id", "=", first.runId).execute();
  expect(completeAtClient).toBeLessThanOrEqual(before.length);
  const reserved = await db.selectFrom("reservations").select(["tokens"]).where("run_id", "=", first.runId).where("released_at", "is", null).execute();
  expect(reserved).toHaveLength(5 - before.length);
  await db.destroy();

  // The next start settles the dead run.
  const second = await startBottleProxy(home, ["--budget", "100000", "--upstream", sim.url]);
  cleanups.push(() => second.stop("SIGKILL"));
  expect(await second.stop()).toBe(0);
  db = await openLedger({ path: file });
  try {
    expect(await getRun(db, first.runId)).toMatchObject({ state: "crashed", stopReason: "crashed" });
    const charged = await db.selectFrom("usage_events").select(["total_tokens", "estimated"]).where("run_id", "=", first.runId).where("estimated", "=", 1).execute();
    const reservedTokens = reserved.reduce((a, r) => a + r.tokens, 0);
    expect(charged).toEqual([{ total_tokens: reservedTokens, estimated: 1 }]);
    expect(reservedTokens).toBeGreaterThan(5 * 37); // the reservations (input estimate + max_tokens), not the usage
    const open = await db.selectFrom("reservations").select("id").where("run_id", "=", first.runId).where("released_at", "is", null).execute();
    expect(open).toEqual([]);
    const actions = await db.selectFrom("enforcement_actions").select(["kind", "trigger", "detail"]).where("run_id", "=", first.runId).execute();
    expect(actions).toEqual([{ kind: "crash", trigger: "startup", detail: expect.stringContaining(`${reserved.length} open reservation(s), ${reservedTokens} tokens, charged in full`) }]);
    expect((await checkTotals(db)).mismatches).toEqual([]);
  } finally {
    await db.destroy();
  }
}, 120_000);
