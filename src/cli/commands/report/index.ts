/**
 * `bottle report <run> [--json | --md]`: a run's provenance record — as text, as the signed record itself
 * (`--json`, the file CI keeps), or as the markdown summary a pull request shows. `<run>` is a run id or
 * label, or the path of a record file. A run whose process died before writing its record gets it now.
 * `bottle report verify <file>` checks one (verify.ts); `bottle report key` shows the key to pin (key.ts).
 */
import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { NotFoundError, UsageError } from "../../../errors.ts";
import { canonicalHash, finishPending, recordMarkdown, recordPath, recordText, type SignedRecord } from "../../../provenance/index.ts";
import { listRuns } from "../../../ledger/index.ts";
import { findRun } from "../../../runs/find.ts";
import { withLedger } from "../../ledger-session.ts";
import { runArg, runRef } from "../../run-arg.ts";

function parse(text: string, file: string): SignedRecord {
  try {
    const s = JSON.parse(text) as SignedRecord;
    if (s?.record?.run?.id) return s;
  } catch {
    /* below */
  }
  throw new UsageError(`${file} is not a provenance record`, { file, fix: "pass a run id or label, or a record file written by `bottle run --report` or `bottle report --json`" });
}

async function locate(ref: string): Promise<{ text: string; path: string }> {
  if (ref.endsWith(".json") && existsSync(ref)) return { text: readFileSync(ref, "utf8"), path: ref };
  return withLedger(async ({ home, db }) => {
    // An ended run's label still names it here: the newest run with that label.
    const run = await findRun(db, ref).catch(async (e: unknown) => (await listRuns(db)).find((r) => r.label === ref) ?? Promise.reject(e));
    const path = recordPath(home, run.id);
    if (!existsSync(path)) await finishPending(db, home);
    if (existsSync(path)) return { text: readFileSync(path, "utf8"), path };
    if (run.state === "running") throw new NotFoundError(`run ${run.id} is still running`, { key: "run", fix: "its record is written when it ends; see `bottle logs` meanwhile" });
    throw new NotFoundError(`run ${run.id} has no provenance record`, { file: path, fix: "runs started before records existed have none" });
  });
}

export default defineCommand({
  meta: { name: "report", description: "Show a run's signed provenance record: text, --json (the signed record) or --md (a pull-request summary)." },
  args: {
    run: { ...runArg, description: "Run id or label (see `bottle ps`), or a record file." },
    json: { type: "boolean", description: "Print the signed record (canonical JSON, as kept by CI)." },
    md: { type: "boolean", description: "Print the markdown summary for a pull request." },
  },
  subCommands: {
    verify: () => import("./verify.ts").then((m) => m.default),
    key: () => import("./key.ts").then((m) => m.default),
  },
  async run({ args }) {
    if (args.json && args.md) throw new UsageError("--json and --md are two forms of the same record", { key: "--md", fix: "pick one" });
    const { text, path } = await locate(runRef(args.run, "bottle report <run> [--json | --md]"));
    if (args.json) {
      process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      return 0;
    }
    const signed = parse(text, path);
    const hash = canonicalHash(signed.record);
    process.stdout.write(args.md ? recordMarkdown(signed, hash) : recordText(signed, hash, path));
    return 0;
  },
});
