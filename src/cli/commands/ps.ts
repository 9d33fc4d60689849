/**
 * `bottle ps`: the bottles that are running or frozen on this host, newest last. `--json` prints a stable
 * array (runId, label, agent, provider, backend, state, createdAt, ageSeconds). `--all` lists the live runs
 * of every host sharing the ledger (fleet mode), from the ledger, with each run's host.
 */
import { defineCommand } from "citty";
import { listActive, psJson, psTable } from "../../backends/listing.ts";
import { fleetJson, fleetRuns, fleetTable } from "../../runs/fleet-ps.ts";
import { withLedger } from "../ledger-session.ts";

export default defineCommand({
  meta: { name: "ps", description: "List running and frozen bottles: run id, label, agent, backend, age, state." },
  args: {
    json: { type: "boolean", description: "Print a JSON array instead of a table." },
    all: { type: "boolean", description: "Every host's live runs (from the shared ledger), with a HOST column." },
  },
  async run({ args }) {
    const now = Date.now();
    if (args.all) {
      return withLedger(async ({ db }) => {
        const runs = await fleetRuns(db);
        if (args.json) process.stdout.write(`${JSON.stringify(fleetJson(runs, now), null, 2)}\n`);
        else if (runs.length === 0) process.stderr.write("no running or frozen runs on any host\n");
        else process.stdout.write(`${fleetTable(runs, now)}\n`);
      });
    }
    const bottles = await listActive();
    if (args.json) process.stdout.write(`${JSON.stringify(psJson(bottles, now), null, 2)}\n`);
    else if (bottles.length === 0) process.stderr.write("no running or frozen bottles\n");
    else process.stdout.write(`${psTable(bottles, now)}\n`);
  },
});
