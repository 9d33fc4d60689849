/**
 * Run provenance: every run leaves a signed record of what the agent was, what it could reach and what it
 * spent (see docs/provenance.md). The launcher calls makeRecord when a run ends and finishPending at the
 * next start; `bottle report` reads, renders and verifies records.
 */
export { makeRecord, finishPending, trailCommits, type MadeRecord } from "./make.ts";
export { recordOpening, type OpeningInput } from "./opening.ts";
export { writeOpening, readOpening, recordPath, markPending } from "./store.ts";
export { recordMarkdown } from "./markdown.ts";
export { recordText } from "./text.ts";
export { checkRecordText, verifyAgainstLedger, type Verdict } from "./verify.ts";
export { hostTrust, readTrustFile } from "./trust.ts";
export { canonicalHash } from "./canonical.ts";
export type { ProvenanceRecord, SignedRecord } from "./record.ts";
