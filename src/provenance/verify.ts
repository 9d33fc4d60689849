/**
 * `bottle report verify`: is this the record bottle signed, signed by a key we trust, and does the ledger
 * still say what it says? Every check that fails is reported, not only the first:
 *
 * 1. the file is exactly the canonical text bottle writes (so no byte can change unnoticed, not even
 *    outside the signed part);
 * 2. the key id is the public key's, and the Ed25519 signature matches the record's canonical JSON;
 * 3. the key is trusted (this host's own, or pinned);
 * 4. when the ledger is at hand and has the run: the usage, enforcement and egress sections derived again
 *    from the rows the record names equal the record's, and so do the run's start, end and exit.
 */
import { getRun, type LedgerDb } from "../ledger/index.ts";
import { canonicalHash, canonicalJson } from "./canonical.ts";
import { ledgerSections } from "./collect.ts";
import type { LedgerSections, SignedRecord } from "./record.ts";
import { RECORD_SCHEMA } from "./record.ts";
import { canonicalPem, keyIdOf, verifyText } from "./sign.ts";

export interface Verdict {
  ok: boolean;
  problems: string[];
  /** What was checked and held. */
  checks: string[];
  signed?: SignedRecord;
  hash?: string;
}

function shapeOf(v: unknown): SignedRecord | undefined {
  const s = v as SignedRecord;
  if (!s || typeof s !== "object" || !s.record || !s.signature || typeof s.signature.value !== "string" || typeof s.signature.publicKey !== "string") return undefined;
  return s;
}

/** Checks 1–3 on the file's text; no I/O. */
export function checkRecordText(text: string, trusted: ReadonlySet<string>): Verdict {
  const problems: string[] = [];
  const checks: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [`the file is not JSON (${(e as Error).message}): it is not a record bottle wrote, or it was changed`], checks };
  }
  const signed = shapeOf(parsed);
  if (!signed) return { ok: false, problems: ["the file has no record and signature: it is not a record bottle wrote"], checks };
  if (text !== `${canonicalJson(parsed)}\n`) problems.push("the file is not in the exact canonical form bottle writes: bytes were changed, added or removed");
  else checks.push("canonical form");
  if (signed.record.schema !== RECORD_SCHEMA) problems.push(`the record's schema is ${JSON.stringify(signed.record.schema)}, not ${RECORD_SCHEMA}`);
  const sig = signed.signature;
  let keyId: string | undefined;
  try {
    keyId = keyIdOf(sig.publicKey);
  } catch {
    problems.push("the signature's public key cannot be read");
  }
  // Base64 and PEM have spellings that decode to the same bytes (padding bits, line breaks): only the
  // one spelling bottle writes is accepted, so no byte of the signature can change unnoticed either.
  if (Buffer.from(sig.value, "base64").toString("base64") !== sig.value) problems.push("the signature is not in the base64 form bottle writes");
  if (keyId && canonicalPem(sig.publicKey) !== sig.publicKey) problems.push("the public key is not in the PEM form bottle writes");
  if (keyId && keyId !== sig.keyId) problems.push(`the signature names key ${sig.keyId}, but its public key is ${keyId}`);
  if (sig.alg !== "ed25519") problems.push(`the signature's algorithm is ${JSON.stringify(sig.alg)}, not ed25519`);
  else if (!verifyText(sig.publicKey, canonicalJson(signed.record), sig.value)) problems.push("the signature does not match the record: the record was changed after it was signed");
  else checks.push(`signature by ${sig.keyId}`);
  if (keyId && !trusted.has(keyId)) problems.push(`the record is signed by key ${keyId}, which is not trusted here (not this host's key, not pinned)`);
  else if (keyId) checks.push("trusted key");
  return { ok: problems.length === 0, problems, checks, signed, hash: canonicalHash(signed.record) };
}

const SECTIONS: Array<keyof LedgerSections> = ["models", "usage", "enforcement", "egress", "ledger"];

/** Check 4: the record against the ledger. Adds to `v`; says so when the ledger does not have the run. */
export async function verifyAgainstLedger(v: Verdict, db: LedgerDb): Promise<Verdict> {
  const r = v.signed?.record;
  if (!r?.run?.id || !r.ledger) return v;
  const run = await getRun(db, r.run.id);
  if (!run) {
    v.checks.push(`ledger: run ${r.run.id} is not in this ledger, so its rows were not checked`);
    return v;
  }
  const b = r.ledger;
  const again = await ledgerSections(db, r.run.id, { usageEvents: b.usageEventsUpTo, audit: b.auditUpTo, actions: b.actionsUpTo });
  const bad: string[] = [];
  for (const k of SECTIONS) if (canonicalJson(again[k]) !== canonicalJson(r[k])) bad.push(k);
  if (new Date(run.startedAt).toISOString() !== r.run.startedAt) bad.push("run.startedAt");
  // A `bottle proxy` session's run has no agent: "" in the ledger, null in the record.
  if (run.agent !== (r.agent?.name ?? "")) bad.push("agent.name");
  if (r.run.state !== "frozen" && r.run.state !== "crashed" && run.exitCode !== r.run.exitCode && run.state === "ended") bad.push("run.exitCode");
  for (const k of bad) v.problems.push(`the record's ${k} differs from the ledger's rows for run ${r.run.id}`);
  if (bad.length === 0) v.checks.push(`ledger rows (${b.usageEvents} usage, ${b.auditRecords} audit, ${b.actions} actions)`);
  v.ok = v.problems.length === 0;
  return v;
}
