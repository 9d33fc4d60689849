/**
 * Where a headless run's record goes besides the run's own directory: `--report <path>` gets a copy of the
 * signed record (for any CI system to keep as an artifact), and in GitHub Actions (`GITHUB_STEP_SUMMARY`
 * set) the markdown summary is appended to the job's step summary. Either failing is an error the user
 * sees: CI asked for it.
 */
import { appendFileSync, copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ProvenanceError } from "../errors.ts";
import type { RunOutcome } from "../launch/index.ts";
import { recordMarkdown, type SignedRecord } from "../provenance/index.ts";

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
  if (o.reportPath) {
    const to = resolve(o.reportPath);
    try {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(outcome.record.path, to);
    } catch (e) {
      throw new ProvenanceError(`could not write the record to ${to}: ${(e as Error).message}`, { key: "--report", fix: "pass a path in a writable directory" });
    }
    err(`bottle: signed record written to ${to}`);
  }
  if (o.stepSummary) {
    const signed = JSON.parse(readFileSync(outcome.record.path, "utf8")) as SignedRecord;
    try {
      appendFileSync(o.stepSummary, `${recordMarkdown(signed, outcome.record.hash)}\n`);
    } catch (e) {
      throw new ProvenanceError(`could not append the run's summary to ${o.stepSummary}: ${(e as Error).message}`, { key: "GITHUB_STEP_SUMMARY", fix: "check that the step summary file is writable" });
    }
  }
}
