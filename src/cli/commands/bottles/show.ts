/**
 * `bottle bottles show <name…>`: the bottles composed in the order given, with their `extends` parents —
 * the env, routes, log level, budgets, shutdown, pre-flight and backend options a run in them would get,
 * and the files they came from. `--json` prints the ComposedBottle itself.
 */
import { defineCommand } from "citty";
import { UsageError } from "../../../errors.ts";
import { log } from "../../../log.ts";
import { composeBottles, loadCatalog } from "../../../manifest/index.ts";
import { describeComposed } from "../../../manifest/listing.ts";

export default defineCommand({
  meta: { name: "show", description: "Print the resolved bottle: several names are composed in order, parents first." },
  args: {
    name: { type: "positional", required: false, description: "bottle name(s), composed in order" },
    json: { type: "boolean", description: "Print the composed bottle as JSON." },
  },
  run({ args }) {
    const names = args._.map(String);
    if (names.length === 0) throw new UsageError("`bottle bottles show` needs at least one bottle name", { fix: "run `bottle bottles` for the list, then e.g. `bottle bottles show anthropic`" });
    const catalog = loadCatalog();
    for (const w of catalog.warnings) log.warn(w);
    const composed = composeBottles(catalog, names);
    process.stdout.write(args.json ? `${JSON.stringify(composed, null, 2)}\n` : `${describeComposed(composed)}\n`);
  },
});
