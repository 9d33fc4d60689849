/**
 * `bottle budget set <global|agent NAME|bottle NAME> <provider> <tokens> [--per day|week|month|none]`:
 * writes one budget into settings.yml or a manifest's frontmatter, keeping the rest of the file as it was.
 */
import { defineCommand } from "citty";
import { parsePer, parseTarget, setBudget } from "../../../budget/budget-files.ts";
import { displayPath } from "../../../budget/report.ts";
import { UsageError } from "../../../errors.ts";
import { log } from "../../../log.ts";
import { loadCatalog } from "../../../manifest/index.ts";

export default defineCommand({
  meta: { name: "set", description: "Set a budget in settings.yml (global) or an agent's or bottle's frontmatter." },
  args: {
    scope: { type: "positional", required: false, description: "global | agent NAME | bottle NAME, then PROVIDER TOKENS" },
    per: { type: "string", description: "window: day, week, month, or none to remove it (default: keep)" },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  run({ args }) {
    const { target, tokens } = parseTarget(args._.map(String), true);
    if (target.scope === "agent") {
      // One key per budget: a run of this agent spends only under its provider's name.
      const agent = loadCatalog().agents.get(target.name!);
      if (agent && agent.provider !== target.provider) {
        throw new UsageError(`a ${target.provider} budget on agent ${agent.name} can never apply: every token its runs spend is counted under ${agent.provider}`, {
          key: "provider",
          fix: `bottle budget set agent ${agent.name} ${agent.provider} ${tokens}`,
        });
      }
    }
    const per = parsePer(args.per);
    const r = setBudget(target, { tokens: tokens!, ...(per !== undefined ? { per } : {}) });
    const out = { ...target, tokens, per, file: r.file, changed: r.changed, copiedBuiltIn: r.copiedBuiltIn };
    if (args.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      if (r.copiedBuiltIn) log.info(`${target.scope} ${target.name} was built in: ${displayPath(r.file)} is now a copy of it that you own, and it replaces the built-in one`);
      log.info(`${r.changed ? "set" : "unchanged:"} ${target.scope}${target.name ? ` ${target.name}` : ""} ${target.provider} budget to ${tokens}${per ? ` per ${per}` : ""} in ${displayPath(r.file)}`);
    }
  },
});
