/**
 * `bottle bottles`: the bottles defined (built in, and $BOTTLE_HOME/bottles — never the current
 * directory), with what they extend, the hosts they allow and their file. `--json` prints a stable array
 * (name, extends, hosts, source, file). `bottle bottles show <name…>` prints the composed result.
 */
import { defineCommand } from "citty";
import { log } from "../../../log.ts";
import { loadCatalog } from "../../../manifest/index.ts";
import { bottleRows, bottlesTable } from "../../../manifest/listing.ts";

export default defineCommand({
  meta: { name: "bottles", description: "List the bottles; `bottles show <name…>` prints one composed." },
  args: {
    json: { type: "boolean", description: "Print a JSON array instead of a table." },
  },
  subCommands: {
    show: () => import("./show.ts").then((m) => m.default),
  },
  run({ args }) {
    const catalog = loadCatalog();
    for (const w of catalog.warnings) log.warn(w);
    const rows = bottleRows(catalog);
    process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : `${bottlesTable(rows)}\n`);
  },
});
