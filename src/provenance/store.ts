/**
 * Where records live: `runs/<id>/provenance.json` (the signed record, one line of canonical JSON, so any
 * changed byte is a changed record) beside `runs/<id>/provenance-opening.json` (what was known at the
 * start). A run that has an opening but no record yet is listed under `provenance-pending/`, so the next
 * start finds a crashed run's missing record without walking every run's directory.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProvenanceError } from "../errors.ts";
import { runDir } from "../paths.ts";
import { canonicalJson } from "./canonical.ts";
import type { RecordOpening, SignedRecord } from "./record.ts";

export function recordPath(home: string, runId: string): string {
  return join(runDir(runId, home), "provenance.json");
}

function openingPath(home: string, runId: string): string {
  return join(runDir(runId, home), "provenance-opening.json");
}

function pendingDir(home: string): string {
  return join(home, "provenance-pending");
}

function atomicWrite(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

export function writeOpening(home: string, o: RecordOpening): void {
  mkdirSync(runDir(o.run.id, home), { recursive: true });
  atomicWrite(openingPath(home, o.run.id), `${JSON.stringify(o, null, 2)}\n`, 0o600);
  mkdirSync(pendingDir(home), { recursive: true });
  writeFileSync(join(pendingDir(home), o.run.id), "");
}

export function readOpening(home: string, runId: string): RecordOpening | undefined {
  const p = openingPath(home, runId);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as RecordOpening;
  } catch (e) {
    throw new ProvenanceError(`the opening of run ${runId}'s record cannot be read: ${(e as Error).message}`, { file: p, fix: "the run's record cannot be written without it" });
  }
}

/** Run ids whose record is still to be written (their run is live, or its process died). */
export function pendingRuns(home: string): string[] {
  const d = pendingDir(home);
  return existsSync(d) ? readdirSync(d).filter((n) => !n.includes(".")) : [];
}

/** The signed file's exact text: canonical JSON and a newline. */
export function signedText(s: SignedRecord): string {
  return `${canonicalJson(s)}\n`;
}

export function writeSignedRecord(home: string, s: SignedRecord): string {
  const p = recordPath(home, s.record.run.id);
  mkdirSync(runDir(s.record.run.id, home), { recursive: true });
  atomicWrite(p, signedText(s));
  rmSync(join(pendingDir(home), s.record.run.id), { force: true });
  return p;
}

/** A run that goes on again (a frozen run resumed) is pending until its next record. */
export function markPending(home: string, runId: string): void {
  mkdirSync(pendingDir(home), { recursive: true });
  writeFileSync(join(pendingDir(home), runId), "");
}
