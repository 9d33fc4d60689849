/**
 * Crash recovery. A run that dies with requests in flight leaves reservations that would hold budget room
 * forever. On startup (and before a run opens its proxy) every reservation whose run's process is gone is
 * released. A run whose pid is unknown is left alone unless `releaseOrphans` is set: its owner may be on
 * another host sharing the ledger.
 */
import { log } from "../log.ts";
import { pidAlive } from "./run-control.ts";
import type { EnforceStore } from "./store.ts";

export interface StaleRelease {
  runs: string[];
  reservations: number;
}

export async function releaseStaleReservations(
  store: EnforceStore,
  opts: { isAlive?: (pid: number) => boolean; releaseOrphans?: boolean; now?: number } = {},
): Promise<StaleRelease> {
  const alive = opts.isAlive ?? pidAlive;
  const now = opts.now ?? Date.now();
  return store.transaction(async (tx) => {
    const out: StaleRelease = { runs: [], reservations: 0 };
    for (const h of await tx.reservationHolders()) {
      const dead = h.pid === null ? !!opts.releaseOrphans : !alive(h.pid);
      if (!dead) continue;
      const n = await tx.releaseRunReservations(h.runId, now);
      if (n > 0) {
        out.runs.push(h.runId);
        out.reservations += n;
      }
    }
    if (out.reservations > 0) log.info(`released ${out.reservations} reservation(s) left by crashed run(s) ${out.runs.join(", ")}`);
    return out;
  });
}
