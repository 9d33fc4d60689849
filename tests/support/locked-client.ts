/**
 * A client that holds the ledger's write lock while it makes a streamed request through the proxy. Every
 * byte of the response must reach it while it holds the lock (a ledger write never stands between the
 * proxy and the client's bytes), but the stream must not END until the exchange's usage is recorded
 * (charge before release), which needs that lock. So it reads until the last event has arrived, prints
 * {allBytes, ended} (ended: the stream closed while the lock was still held), releases the lock, and then
 * reads to the end and prints {complete}. argv: ledger proxyUrl caPemFile. The ledger is an SQLite file
 * (its write lock: BEGIN IMMEDIATE) or a fleet ledger's URL (its write lock: the advisory lock every
 * writing transaction takes, held in an open transaction of this client's own).
 */
import { Database } from "bun:sqlite";
import pg from "pg";
import { isPostgresUrl } from "../../src/ledger/dialect.ts";
import { PG_LEDGER_LOCK } from "../../src/ledger/tx.ts";

const [file, proxyUrl, caFile] = process.argv.slice(2) as [string, string, string];
let release: () => Promise<void>;
if (isPostgresUrl(file)) {
  const c = new pg.Client({ connectionString: file });
  await c.connect();
  await c.query("begin");
  await c.query("select pg_advisory_xact_lock($1)", [PG_LEDGER_LOCK]);
  release = async () => {
    await c.query("rollback");
    await c.end();
  };
} else {
  const raw = new Database(file);
  raw.exec("pragma busy_timeout = 10000");
  raw.exec("begin immediate");
  raw.run("insert into commands (run_id, command, created_at) values ('lock-holder', 'noop', 0)");
  release = async () => {
    raw.exec("rollback");
    raw.close();
  };
}
const res = await fetch("https://api.anthropic.com/v1/messages", {
  method: "POST",
  headers: { "content-type": "application/json", "x-api-key": "sk-placeholder" },
  body: JSON.stringify({ model: "claude-test", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] }),
  proxy: proxyUrl,
  tls: { ca: await Bun.file(caFile).text() },
  signal: AbortSignal.timeout(8000),
} as RequestInit);
const reader = res.body!.getReader();
let text = "";
let ended = false;
const dec = new TextDecoder();
while (!text.includes("message_stop")) {
  const r = await reader.read();
  if (r.done) {
    ended = true;
    break;
  }
  text += dec.decode(r.value, { stream: true });
}
// The stream must still be open: give the proxy a moment in which it could (wrongly) close it.
const early = await Promise.race([reader.read().then((r) => (r.done ? "ended" : "data")), Bun.sleep(300).then(() => "open")]);
console.log(JSON.stringify({ allBytes: text.includes("message_stop"), ended: ended || early === "ended" }));
await release();
let complete = early === "ended";
if (!complete) {
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
  }
  complete = true;
}
console.log(JSON.stringify({ complete }));
