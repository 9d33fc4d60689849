/**
 * `bottle budget show [--agent A] [--bottle B]… [--json]`: every budget with its usage, what is left, its
 * window (start and end in the configured time zone) and where it was set; narrowed to one agent and/or
 * bottles, the layers such a run would see with the governing one marked; and each live run's budget.
 */
import { defineCommand } from "citty";
import { sqlEnforceStore } from "../../../enforce/sql-store.ts";
import { readRequestFile } from "../../../launch/request-file.ts";
import { loadCatalog } from "../../../manifest/index.ts";
import { budgetView, renderView } from "../../../runs/budget-view.ts";
import { printJson, withLedger } from "../../ledger-session.ts";
import { repeatedFlag } from "../../repeated-flag.ts";

export default defineCommand({
  meta: { name: "show", description: "Show every budget: used, left, window and where it was set; and each live run's." },
  args: {
    agent: { type: "string", description: "Only the budgets a run of this agent would see." },
    bottle: { type: "string", description: "Only the budgets a run in this bottle would see; repeat for several, in order." },
    json: { type: "boolean", description: "Print {timeZone, at, budgets, runs} as JSON." },
  },
  run({ args, rawArgs }) {
    return withLedger(async ({ home, settings, db }) => {
      const catalog = loadCatalog({ home, cwd: process.cwd() });
      const bottles = repeatedFlag(rawArgs, "bottle");
      const runBudgetOf = (runId: string) => readRequestFile(runId, home)?.budget;
      const view = await budgetView({ db, store: sqlEnforceStore(db), settings, catalog, runBudgetOf, ...(args.agent ? { agent: args.agent } : {}), bottles });
      if (args.json) printJson(view);
      else process.stdout.write(renderView(view));
    });
  },
});
