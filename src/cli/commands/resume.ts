/**
 * `bottle resume <run>`: continue a frozen run from its snapshot, or an ended run in a new bottle with the
 * same home and workspace; the agent starts with its provider's resume arguments. Headless with `--prompt`
 * (the next instruction), or attached to this terminal. Exit codes as for `bottle run`.
 */
import { defineCommand } from "citty";
import { UsageError } from "../../errors.ts";
import { resumeRun } from "../../launch/index.ts";
import type { ShutdownPolicy } from "../../manifest/types.ts";
import { interactiveSession } from "../interactive.ts";
import { promptFromFlags } from "../prompt-flag.ts";
import { publishAfterRun } from "../publish-record.ts";
import { reportOutcome } from "../report-outcome.ts";
import { parseBudget } from "../budget-flag.ts";

export default defineCommand({
  meta: { name: "resume", description: "Continue a frozen or ended run (its id is printed when a run ends; see `bottle ps`)." },
  args: {
    run: { type: "positional", required: false, description: "The run id, or its label (the latest run that had it when none live does)." },
    headless: { type: "boolean", description: "Ask nothing; needs --prompt." },
    prompt: { type: "string", description: "The next instruction for the agent (headless); `-` reads it from stdin." },
    stdin: { type: "boolean", description: "Headless: hand bottle's stdin to the agent; otherwise its stdin is /dev/null." },
    budget: { type: "string", description: "A new token budget for the run (a frozen run's budget counts what it already used)." },
    shutdown: { type: "string", description: "What a crossed budget does now: cutoff, freeze or kill." },
    report: { type: "string", description: "Also write the run's signed provenance record here (a CI artifact)." },
  },
  async run({ args }) {
    const runId = args.run;
    if (!runId) throw new UsageError("bottle resume needs a run id", { key: "run", fix: 'bottle resume RUN-ID --headless --prompt "…" (run ids: `bottle ps`, or the end of a run\'s output)' });
    const headless = !!args.headless || args.prompt !== undefined;
    if (!headless && !interactiveSession()) {
      throw new UsageError("resuming attached to a terminal needs one, and this session has none", { key: "--headless", fix: `bottle resume ${runId} --headless --prompt "…"` });
    }
    const budget = parseBudget(args.budget);
    const prompt = await promptFromFlags({ prompt: args.prompt, stdin: args.stdin, headless });
    const outcome = await resumeRun({
      runId,
      headless,
      ...(prompt !== undefined ? { prompt } : {}),
      ...(args.stdin ? { stdin: true } : {}),
      ...(budget !== undefined ? { budget } : {}),
      ...(args.shutdown !== undefined ? { shutdown: args.shutdown as ShutdownPolicy } : {}),
    });
    return publishAfterRun(outcome, reportOutcome(outcome), { headless, report: args.report });
  },
});
