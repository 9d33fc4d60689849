/**
 * One of several processes launching runs at the same moment against one ledger: after "go" on stdin it
 * registers `count` runs, each asking for the label `wanted`, through the launcher's own registerLabelled
 * (the ledger transaction that claims a label). Prints the labels it got as a JSON array.
 * The runs are owned by `owner` (the test process, which outlives this one: a run whose owner is gone
 * gives its label up).
 * argv: ledger prefix wanted count owner
 */
import { registerLabelled } from "../../src/launch/label.ts";
import { openLedger } from "../../src/ledger/index.ts";

const [file, prefix, wanted, count, owner] = process.argv.slice(2) as [string, string, string, string, string];
const db = await openLedger({ path: file });
process.stdout.write("ready\n");
for await (const _ of console) break;
const got: string[] = [];
for (let i = 0; i < Number(count); i++) got.push(await registerLabelled(db, { id: `${prefix}-${i}`, agent: "claude", pid: Number(owner) }, wanted));
await db.destroy();
process.stdout.write(`${JSON.stringify(got)}\n`);
