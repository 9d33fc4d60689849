/**
 * `bottle run`: launch an agent in its bottles. Headless (`--headless --prompt …`, for CI) it asks nothing
 * and fails before anything starts when the invocation is incomplete; without `--headless`, on a terminal,
 * the wizard asks. `--dry-run` (or BOTTLE_DRY_RUN=1, for orchestrators that cannot change argv) prints the
 * resolved plan (or `--json`) and starts nothing. The exit code is
 * the agent's own, or 75 when a budget stopped the run; usage totals and the resume command go to stderr.
 */
import { defineCommand } from "citty";
import { parseBudget } from "../budget-flag.ts";
import { UsageError } from "../../errors.ts";
import { describePlan, launch, resolveLaunch, type LaunchRequest } from "../../launch/index.ts";
import { invocation } from "../../launch/validate.ts";
import { interactiveSession } from "../interactive.ts";
import { promptFromFlags } from "../prompt-flag.ts";
import { publishAfterRun } from "../publish-record.ts";
import { reportOutcome } from "../report-outcome.ts";
import { repeatedFlag } from "../repeated-flag.ts";
import { log } from "../../log.ts";

/** Exit code when the wizard was cancelled (Ctrl-C, Esc, or No at the confirm): 128 + SIGINT, as shells do. */
const EXIT_CANCELLED = 130;

/** BOTTLE_DRY_RUN: 1/true/yes turn --dry-run on; unset, empty, 0/false/no leave it off; anything else is an error. */
function dryRunFromEnv(v: string | undefined): boolean {
  const t = (v ?? "").trim().toLowerCase();
  if (t === "" || t === "0" || t === "false" || t === "no") return false;
  if (t === "1" || t === "true" || t === "yes") return true;
  throw new UsageError(`BOTTLE_DRY_RUN=${JSON.stringify(v)} is neither on nor off`, { key: "BOTTLE_DRY_RUN", fix: "set it to 1 (print the plan, start nothing) or 0, or unset it" });
}

export default defineCommand({
  meta: { name: "run", description: "Run an agent in a bottle: headless with --headless --prompt, or through the wizard on a terminal." },
  args: {
    agent: { type: "positional", required: false, description: "The agent to run (agents/<name>.md, or a built-in: claude, codex, pi)." },
    headless: { type: "boolean", description: "Ask nothing; needs --prompt. For CI and scripts." },
    prompt: { type: "string", description: "The task, handed to the agent through its own headless arguments; `-` reads it from stdin." },
    stdin: { type: "boolean", description: "Headless: hand bottle's stdin to the agent (`git diff | bottle run … --stdin`); otherwise its stdin is /dev/null." },
    bottle: { type: "string", description: "A bottle to compose; repeat for several, in order (default: the agent's bottle:)." },
    label: { type: "string", description: "The run's label (default: the agent name; -2, -3, … when taken)." },
    color: { type: "string", description: "One of the 16 ANSI color names (red, bright-cyan, …)." },
    budget: { type: "string", description: "Token budget for this run (per provider); wins over every other budget." },
    shutdown: { type: "string", description: "What a crossed budget does: cutoff (default), freeze or kill." },
    backend: { type: "string", description: "docker or sandbox (default: auto)." },
    workspace: { type: "string", description: "bind (the agent edits the current directory, default) or copy." },
    simulate: { type: "boolean", description: "Answer the agent with bottle's built-in simulated provider instead of the real API." },
    "dry-run": { type: "boolean", description: "Print the resolved plan and start nothing (also BOTTLE_DRY_RUN=1)." },
    json: { type: "boolean", description: "With --dry-run: print the plan as JSON." },
    report: { type: "string", description: "Also write the run's signed provenance record here (a CI artifact)." },
    "prompt-in-report": { type: "boolean", default: true, description: "Keep the prompt's text in the provenance record (--no-prompt-in-report: its hash only)." },
    trailer: { type: "boolean", description: "Commits the agent made in the run get a trailer naming the run and its record's hash." },
  },
  async run({ args, rawArgs }) {
    const budget = parseBudget(args.budget);
    const bottles = repeatedFlag(rawArgs, "bottle");
    const prompt = await promptFromFlags({ prompt: args.prompt, stdin: args.stdin, headless: !!args.headless });
    const req: LaunchRequest = {
      agent: args.agent ?? "",
      headless: !!args.headless,
      ...(prompt !== undefined ? { prompt } : {}),
      ...(args.stdin ? { stdin: true } : {}),
      ...(bottles.length > 0 ? { bottles } : {}),
      ...(args.label !== undefined ? { label: args.label } : {}),
      ...(args.color !== undefined ? { color: args.color as LaunchRequest["color"] } : {}),
      ...(budget !== undefined ? { budget } : {}),
      ...(args.shutdown !== undefined ? { shutdown: args.shutdown as LaunchRequest["shutdown"] } : {}),
      ...(args.backend !== undefined ? { backend: args.backend as LaunchRequest["backend"] } : {}),
      ...(args.workspace !== undefined ? { workspace: args.workspace as LaunchRequest["workspace"] } : {}),
      ...(args.simulate ? { simulate: true } : {}),
      ...(args["dry-run"] || dryRunFromEnv(process.env.BOTTLE_DRY_RUN) ? { dryRun: true } : {}),
      ...(args["prompt-in-report"] === false ? { promptInReport: false } : {}),
      ...(args.trailer ? { trailer: true } : {}),
    };
    if (args.json && !req.dryRun) throw new UsageError("--json goes with --dry-run", { key: "--json", fix: "add --dry-run, or drop --json" });
    if (!req.headless && !req.dryRun) {
      if (!interactiveSession()) {
        throw new UsageError("`bottle run` without --headless asks questions, but this session has no terminal to ask on", {
          key: "--headless",
          fix: invocation(req.agent || "claude"),
        });
      }
      const { runWizard } = await import("../wizard/index.ts");
      const asked = await runWizard(req);
      if (!asked) return EXIT_CANCELLED;
      Object.assign(req, asked);
    }
    const plan = await resolveLaunch(req);
    if (req.dryRun) {
      const d = describePlan(plan);
      process.stdout.write(args.json ? `${JSON.stringify(d.json, null, 2)}\n` : `${d.lines.join("\n")}\n`);
      return 0;
    }
    // The wizard showed them before its y/N; headless, nobody saw the plan, so they go to stderr now.
    if (req.headless) for (const w of plan.warnings) log.warn(w);
    const outcome = await launch(plan);
    return publishAfterRun(outcome, reportOutcome(outcome), { headless: req.headless, report: args.report });
  },
});
