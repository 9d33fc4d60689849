/**
 * `bottle budget reset`: a marker in the ledger after which a budget counts from zero. History is never
 * deleted: usage rows stay (for `bottle budget usage`, audits and a later look), and every count simply
 * starts after the newest marker of its scope. The target must exist, so a typo does not silently reset
 * nothing: an agent or bottle in the manifests, or a run in the ledger.
 */
import type { ResetTarget } from "../budget/budget-files.ts";
import type { ScopeKey } from "../budget/counting.ts";
import type { EnforceStore } from "../enforce/store.ts";
import { NotFoundError } from "../errors.ts";
import type { LedgerDb } from "../ledger/index.ts";
import type { Catalog } from "../manifest/index.ts";
import { didYouMean } from "../util/did-you-mean.ts";
import { findRun } from "./find.ts";

export interface ResetDone {
  scope: ResetTarget["scope"];
  name?: string;
  /** Absent: every provider's count was reset. */
  provider?: string;
  /** The marker's time (ISO, UTC). */
  at: string;
}

function mustExist(names: Iterable<string>, name: string, kind: "agent" | "bottle"): void {
  const all = [...names];
  if (all.includes(name)) return;
  const guess = didYouMean(name, all);
  throw new NotFoundError(`no ${kind} named "${name}"`, { key: kind, fix: guess ? `did you mean ${guess}?` : `list them with \`bottle ${kind}s\`.` });
}

export async function resetBudget(db: LedgerDb, store: EnforceStore, catalog: Catalog, t: ResetTarget, now = Date.now()): Promise<ResetDone> {
  let key: ScopeKey;
  if (t.scope === "global") key = { scope: "global", key: "" };
  else if (t.scope === "run") key = { scope: "run", key: (await findRun(db, t.name!)).id };
  else {
    mustExist(t.scope === "agent" ? catalog.agents.keys() : catalog.bottles.keys(), t.name!, t.scope === "agent" ? "agent" : "bottle");
    key = { scope: t.scope, key: t.name! };
  }
  await store.transaction((tx) => tx.addReset(key, t.provider, now));
  return { scope: t.scope, ...(key.key ? { name: key.key } : {}), ...(t.provider ? { provider: t.provider } : {}), at: new Date(now).toISOString() };
}
