/**
 * Another process holding the ledger's write lock: BEGIN IMMEDIATE, print "locked", and COMMIT when a line
 * arrives on stdin (or stdin closes).
 */
import { Database } from "bun:sqlite";

const db = new Database(process.argv[2]!);
db.exec("pragma busy_timeout = 10000");
db.exec("begin immediate");
process.stdout.write("locked\n");
for await (const _ of console) break;
db.exec("commit");
db.close();
