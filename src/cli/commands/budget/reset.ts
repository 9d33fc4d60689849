/**
 * `bottle budget reset <global|agent NAME|bottle NAME|parent NAME|run ID> [provider] [--json]`: the budget
 * counts from zero from now on; usage history stays in the ledger.
 */
import { defineCommand } from "citty";
import { parseResetTarget } from "../../../budget/budget-files.ts";
import { sqlEnforceStore } from "../../../enforce/sql-store.ts";
import { log } from "../../../log.ts";
import { loadCatalog } from "../../../manifest/index.ts";
import { resetBudget } from "../../../runs/reset.ts";
import { printJson, withLedger } from "../../ledger-session.ts";

export default defineCommand({
  meta: { name: "reset", description: "Start a budget's count from zero now (usage history is kept)." },
  args: {
    scope: { type: "positional", required: false, description: "global | agent NAME | bottle NAME | parent NAME | run ID, then an optional PROVIDER" },
    json: { type: "boolean", description: "Print {scope, name, provider, at} as JSON." },
  },
  run({ args }) {
    const target = parseResetTarget(args._.map(String));
    return withLedger(async ({ home, db }) => {
      const catalog = loadCatalog({ home, cwd: process.cwd() });
      const done = await resetBudget(db, sqlEnforceStore(db), catalog, target);
      if (args.json) printJson(done);
      else log.info(`reset the ${done.scope}${done.name ? ` ${done.name}` : ""} ${done.provider ?? "(every provider)"} budget at ${done.at}: it counts from zero; earlier usage stays in the ledger`);
    });
  },
});
