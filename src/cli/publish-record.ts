/**
 * Where a headless run's record goes besides the run's own directory: `--report <path>` gets a copy of the
 * signed record (for any CI system to keep as an artifact), and in GitHub Actions (`GITHUB_STEP_SUMMARY`
 * set) the markdown summary is appended to the job's step summary. Either failing is an error the user
 * sees: CI asked for it. Both paths may lie in the workspace the agent had, so neither is written through
 * a symbolic link planted there (src/provenance/safe-write.ts).
 */
import { appendFileSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { ProvenanceError } from "../errors.ts";
import { formatError } from "./format-error.ts";
import type { RunOutcome } from "../launch/index.ts";
import { recordMarkdown, type SignedRecord } from "../provenance/index.ts";
import { refusePlantedLinks, writeOverNoLink } from "../provenance/safe-write.ts";

export interface PublishOptions {
  reportPath?: string;
  /** The step summary file (GITHUB_STEP_SUMMARY); only for headless runs. */
  stepSummary?: string;
  err?: (line: string) => void;
}

export function publishRecord(outcome: RunOutcome, o: PublishOptions): void {
  const err = o.err ?? ((s: string) => void process.stderr.write(`${s}\n`));
  if (!outcome.record) {
    if (o.reportPath || o.stepSummary) throw new ProvenanceError(`run ${outcome.runId} has no provenance record to publish`, { fix: "see the warning above for why it could not be written" });
    return;
  }
  err(`bottle: provenance record ${outcome.record.path} (${outcome.record.hash}); show it with \`bottle report ${outcome.runId}\``);
  const text = readFileSync(outcome.record.path, "utf8");
  const signed = JSON.parse(text) as SignedRecord;
  // Links are refused on the way down from the workspace; a record without one (bottle proxy) checks the file alone.
  const ws = signed.record.workspace?.path ?? dirname(o.reportPath ?? o.stepSummary ?? ".");
  let failure: unknown;
  if (o.stepSummary) {
    try {
      refusePlantedLinks(o.stepSummary, ws, "the step summary");
      appendFileSync(o.stepSummary, `${recordMarkdown(signed, outcome.record.hash)}\n`);
    } catch (e) {
      failure = e instanceof ProvenanceError ? e : new ProvenanceError(`could not append the run's summary to ${o.stepSummary}: ${(e as Error).message}`, { key: "GITHUB_STEP_SUMMARY", fix: "check that the step summary file is writable" });
    }
  }
  if (o.reportPath) {
    try {
      err(`bottle: signed record written to ${writeOverNoLink(o.reportPath, text, ws, "the signed record (--report)")}`);
    } catch (e) {
      failure = e instanceof ProvenanceError ? e : new ProvenanceError(`could not write the record to ${o.reportPath}: ${(e as Error).message}`, { key: "--report", fix: "pass a path in a writable directory" });
    }
  }
  if (failure) throw failure;
}

/**
 * What `bottle run` and `bottle resume` do after reporting the outcome: publish the record (`--report`,
 * the step summary when headless). A failure is printed, and fails a run that would otherwise exit 0; the
 * run's own exit code (75 for a budget stop) is kept otherwise.
 */
export function publishAfterRun(outcome: RunOutcome, code: number, o: { headless: boolean; report?: string | undefined }, env: Record<string, string | undefined> = process.env): number {
  const summary = o.headless ? env.GITHUB_STEP_SUMMARY : undefined;
  try {
    publishRecord(outcome, { ...(o.report ? { reportPath: o.report } : {}), ...(summary ? { stepSummary: summary } : {}) });
  } catch (e) {
    process.stderr.write(`${formatError(e).text}\n`);
    return code === 0 ? 1 : code;
  }
  return code;
}
