/**
 * The run's control state (cut off, frozen, killed, stopped, restored), kept in memory by the process that
 * owns the run. Admission needs it on every request, and reading it was a select per request inside the
 * write lock. Every control action of a live run is recorded by its owner (a budget crossing here, or a
 * command carried out by this process's poller), so the owner's memory is exact once loaded: it is read
 * from the ledger once, then updated when an action recorded through this store commits.
 */
import type { EnforceStore, EnforceTx, EnforcementActionRow } from "./store.ts";

/** The kinds `lastControlAction` reports. */
const CONTROL = new Set<EnforcementActionRow["kind"]>(["cutoff", "freeze", "kill", "stop", "restore"]);

export function withControlCache(store: EnforceStore, runId: string): EnforceStore {
  let last: EnforcementActionRow | undefined;
  let loaded = false;
  const fromLedger = (id: string) => (store.lastControlAction ? store.lastControlAction(id) : store.transaction((tx) => tx.lastControlAction(id)));

  const wrap = (tx: EnforceTx, pending: { row?: EnforcementActionRow }): EnforceTx => ({
    ...tx,
    lastControlAction: async (id) => (id === runId && loaded ? last : tx.lastControlAction(id)),
    recordAction: async (a) => {
      await tx.recordAction(a);
      if (a.runId === runId && CONTROL.has(a.kind)) pending.row = a;
    },
  });
  async function step<T>(via: (fn: (tx: EnforceTx) => Promise<T>) => Promise<T>, fn: (tx: EnforceTx) => Promise<T>): Promise<T> {
    const pending: { row?: EnforcementActionRow } = {};
    const out = await via((tx) => fn(wrap(tx, pending)));
    // Only once committed: a rolled-back action never happened.
    if (pending.row) {
      last = pending.row;
      loaded = true;
    }
    return out;
  }
  const cached: EnforceStore = {
    transaction: (fn) => step((f) => store.transaction(f), fn),
    async lastControlAction(id) {
      if (id !== runId) return fromLedger(id);
      if (!loaded) {
        last = await fromLedger(id);
        loaded = true;
      }
      return last;
    },
  };
  if (store.read) cached.read = (fn) => step((f) => store.read!(f), fn);
  if (store.standings) cached.standings = (reads) => store.standings!(reads);
  if (store.location) cached.location = store.location;
  return cached;
}
