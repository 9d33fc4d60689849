/**
 * Making a run's record: its opening, the ledger's rows for it, how it ended, and the workspace now, put
 * together, hashed and signed with the host's key. Called at one place when a run ends
 * (src/launch/run.ts finishRun), and at the next start for a run whose process died before it could
 * (finishPending).
 */
import { hostName } from "../host-name.ts";
import { join } from "node:path";
import { pidAlive } from "../enforce/run-control.ts";
import { ProvenanceError } from "../errors.ts";
import { getRun, runRowBounds, type LedgerDb } from "../ledger/index.ts";
import { log } from "../log.ts";
import { homePaths, runDir } from "../paths.ts";
import { canonicalHash, canonicalJson } from "./canonical.ts";
import { ledgerSections } from "./collect.ts";
import { gitEnd, sameGitPlace } from "./git-state.ts";
import { addTrailers, type TrailerResult } from "./git-trailer.ts";
import { RECORD_SCHEMA, type ProvenanceRecord, type RecordOpening, type SignedRecord, type WorkspaceFacts } from "./record.ts";
import { loadOrCreateSigningKey, signText } from "./sign.ts";
import { pendingRuns, readOpening, writeSignedRecord } from "./store.ts";

export interface MadeRecord {
  path: string;
  signed: SignedRecord;
  /** `sha256:<hex>` of the record's canonical JSON (what a trailer names). */
  hash: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Where the agent's changes are on the host: the user's directory (bind) or the run's copy. */
function workspaceDir(home: string, runId: string, start: { path: string; mode: "bind" | "copy" }): string {
  return start.mode === "copy" ? join(runDir(runId, home), "workspace") : start.path;
}

/** The workspace section: its git state at the start and now (none for a `bottle proxy` session). */
function workspaceFacts(home: string, o: RecordOpening): WorkspaceFacts | null {
  const start = o.workspaceStart;
  if (!start) return null;
  const wsDir = workspaceDir(home, o.run.id, start);
  const moved = start.git !== null && !sameGitPlace(wsDir, start.gitDirs ?? null);
  const end = start.git && !moved ? gitEnd(wsDir, start.git.commit) : null;
  return {
    path: start.path,
    mode: start.mode,
    git: start.git
      ? { start: start.git, end: end?.state ?? null, diff: end?.diff ?? null, ...(moved ? { note: "at the end the workspace's .git pointed at another git directory than at the start; it was not read" } : {}) }
      : null,
  };
}

export function signRecord(home: string, record: ProvenanceRecord): SignedRecord {
  const key = loadOrCreateSigningKey(homePaths(home).ca);
  return { record, signature: { alg: "ed25519", keyId: key.keyId, publicKey: key.publicKeyPem, value: signText(key, canonicalJson(record)) } };
}

export async function makeRecord(db: LedgerDb, home: string, runId: string, recordedBy: ProvenanceRecord["run"]["recordedBy"]): Promise<MadeRecord> {
  const opening = readOpening(home, runId);
  if (!opening) throw new ProvenanceError(`run ${runId} has no record opening`, { file: runDir(runId, home), fix: "only runs started by this version of bottle have records" });
  const run = await getRun(db, runId);
  if (!run) throw new ProvenanceError(`run ${runId} is not in the ledger`, { fix: "a record is made from the ledger the run wrote to; check settings.yml's ledger:" });
  const sections = await ledgerSections(db, runId, await runRowBounds(db, runId));
  // Still marked running with its process gone, or already marked crashed by the ledger's own recovery.
  const crashed = (recordedBy === "next-start" && run.state === "running") || run.state === "crashed" || run.stopReason === "crashed";
  const { run: openRun, workspaceStart: _ws, ...rest } = opening;
  const record: ProvenanceRecord = {
    schema: RECORD_SCHEMA,
    ...rest,
    ...sections,
    run: {
      ...openRun,
      startedAt: iso(run.startedAt)!,
      endedAt: iso(run.endedAt),
      state: crashed ? "crashed" : run.state,
      exitCode: run.exitCode,
      stopReason: crashed ? "crashed" : run.stopReason,
      recordedBy,
      recordedAt: new Date().toISOString(),
    },
    workspace: workspaceFacts(home, opening),
  };
  const signed = signRecord(home, record);
  return { path: writeSignedRecord(home, signed), signed, hash: canonicalHash(record) };
}

/**
 * Records for runs whose process died before writing one (found at the next start): a run still marked
 * running on this host with no live owner, or one already ended or marked crashed. Never throws: a start
 * is not held up by an old run's record.
 */
export async function finishPending(db: LedgerDb, home: string, isAlive: (pid: number) => boolean = pidAlive): Promise<string[]> {
  const done: string[] = [];
  for (const id of pendingRuns(home)) {
    try {
      const run = await getRun(db, id);
      if (!run || run.state === "frozen") continue;
      if (run.state === "running" && (run.host !== hostName() || run.pid === null || isAlive(run.pid))) continue;
      const made = await makeRecord(db, home, id, "next-start");
      log.info(`bottle: run ${id} ended without its provenance record (its process died); recorded now: ${made.path}`);
      done.push(id);
    } catch (e) {
      log.warn(`bottle: could not record run ${id}: ${(e as Error).message}`);
    }
  }
  return done;
}

/** `--trailer`: the run's commits get `Bottle-Run` and `Bottle-Record` trailers (see git-trailer.ts). */
export function trailCommits(home: string, made: MadeRecord): TrailerResult | undefined {
  const r = made.signed.record;
  const w = r.workspace;
  if (!w?.git) return undefined;
  const ws = workspaceDir(home, r.run.id, w);
  return addTrailers(ws, w.git.start.commit, [`Bottle-Run: ${r.run.id}`, `Bottle-Record: ${made.hash}`]);
}
