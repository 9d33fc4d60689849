/**
 * Crash recovery. A run whose process dies mid-request leaves reservations that would hold budget room
 * forever, and a `running` row nobody will end. On startup (and before a run opens its proxy) every run
 * whose process is gone is settled: usage that reached the agent was committed before its stream ended
 * (the proxy ends a response only once its usage is recorded), so what is still reserved is usage whose
 * delivery is unknown, and it is charged in full, as an estimated usage row. The run is marked `crashed`
 * and a `crash` action records what was charged. A run whose pid is unknown is left alone unless
 * `releaseOrphans` is set: its owner may be on another host sharing the ledger.
 */
import { hostName } from "../host-name.ts";
import { log } from "../log.ts";
import { pidAlive } from "./run-control.ts";
import type { EnforceStore } from "./store.ts";

export interface StaleRelease {
  runs: string[];
  reservations: number;
  /** Tokens charged for reservations whose delivery is unknown. */
  tokens?: number;
}

export async function releaseStaleReservations(
  store: EnforceStore,
  opts: { isAlive?: (pid: number) => boolean; releaseOrphans?: boolean; now?: number; host?: string } = {},
): Promise<StaleRelease> {
  const alive = opts.isAlive ?? pidAlive;
  const now = opts.now ?? Date.now();
  return store.transaction(async (tx) => {
    const out: StaleRelease = { runs: [], reservations: 0 };
    let tokens = 0;
    const dead = new Map<string, number | null>();
    for (const h of await tx.reservationHolders()) {
      if (h.pid === null ? !!opts.releaseOrphans : !alive(h.pid)) dead.set(h.runId, h.pid);
    }
    for (const r of await tx.runningRuns(opts.host ?? hostName())) if (!alive(r.pid)) dead.set(r.runId, r.pid);
    for (const [runId, pid] of dead) {
      const charged = await tx.chargeRunReservations(runId, now);
      const crashed = await tx.markCrashed(runId, now);
      if (charged.reservations === 0 && !crashed) continue;
      out.runs.push(runId);
      out.reservations += charged.reservations;
      tokens += charged.tokens;
      const what = charged.reservations > 0 ? `${charged.reservations} open reservation(s), ${charged.tokens} tokens, charged in full (delivery unknown)` : "nothing was reserved";
      await tx.recordAction({ runId, kind: "crash", trigger: "startup", detail: `process ${pid ?? "(unknown)"} died without ending the run; ${what}`, at: now });
    }
    if (out.runs.length > 0) {
      out.tokens = tokens;
      log.info(`crash recovery: run(s) ${out.runs.join(", ")} marked crashed; ${out.reservations} reservation(s) charged in full (${tokens} tokens)`);
    }
    return out;
  });
}
