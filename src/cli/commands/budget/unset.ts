/** `bottle budget unset <global|agent NAME|bottle NAME> <provider>`: removes one budget from its file. */
import { defineCommand } from "citty";
import { parseTarget, unsetBudget } from "../../../budget/budget-files.ts";
import { displayPath } from "../../../budget/report.ts";
import { log } from "../../../log.ts";

export default defineCommand({
  meta: { name: "unset", description: "Remove a budget from settings.yml or an agent's or bottle's frontmatter." },
  args: {
    scope: { type: "positional", required: false, description: "global | agent NAME | bottle NAME, then PROVIDER" },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  run({ args }) {
    const { target } = parseTarget(args._.map(String), false);
    const r = unsetBudget(target);
    if (args.json) process.stdout.write(`${JSON.stringify({ ...target, file: r.file, removed: r.removed })}\n`);
    else log.info(r.removed ? `removed the ${target.provider} budget from ${displayPath(r.file)}` : `no ${target.provider} budget in ${displayPath(r.file)}; nothing to remove`);
  },
});
