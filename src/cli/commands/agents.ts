/**
 * `bottle agents`: every agent bottle can run — the built-in ones, $BOTTLE_HOME/agents and ./.bottle/agents
 * (cwd wins on a name collision) — with its provider, default bottle, and the file it came from.
 * `--json` prints a stable array (name, provider, bottle, model, skills, source, file).
 */
import { defineCommand } from "citty";
import { log } from "../../log.ts";
import { loadCatalog } from "../../manifest/index.ts";
import { agentRows, agentsTable } from "../../manifest/listing.ts";

export default defineCommand({
  meta: { name: "agents", description: "List the agents: name, provider, default bottle and source file." },
  args: {
    json: { type: "boolean", description: "Print a JSON array instead of a table." },
  },
  run({ args }) {
    const catalog = loadCatalog();
    for (const w of catalog.warnings) log.warn(w);
    const rows = agentRows(catalog);
    process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : `${agentsTable(rows)}\n`);
  },
});
