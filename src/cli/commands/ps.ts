/**
 * `bottle ps`: the bottles that are running or frozen on this host, newest last. `--json` prints a stable
 * array (runId, label, agent, provider, backend, state, createdAt, ageSeconds).
 */
import { defineCommand } from "citty";
import { listActive, psJson, psTable } from "../../backends/listing.ts";

export default defineCommand({
  meta: { name: "ps", description: "List running and frozen bottles: run id, label, agent, backend, age, state." },
  args: {
    json: { type: "boolean", description: "Print a JSON array instead of a table." },
  },
  async run({ args }) {
    const bottles = await listActive();
    const now = Date.now();
    if (args.json) process.stdout.write(`${JSON.stringify(psJson(bottles, now), null, 2)}\n`);
    else if (bottles.length === 0) process.stderr.write("no running or frozen bottles\n");
    else process.stdout.write(`${psTable(bottles, now)}\n`);
  },
});
