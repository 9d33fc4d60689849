/**
 * A client that holds the ledger's write lock while it makes a streamed request through the proxy: if a
 * ledger write ever stood between the proxy and the client's bytes, this client could not finish reading
 * until it let go of the lock (it gives up after 8 s instead). Prints {complete, stopped} as JSON, then
 * releases the lock. argv: ledger proxyUrl caPemFile
 */
import { Database } from "bun:sqlite";

const [file, proxyUrl, caFile] = process.argv.slice(2) as [string, string, string];
const raw = new Database(file);
raw.exec("pragma busy_timeout = 10000");
raw.exec("begin immediate");
raw.run("insert into commands (run_id, command, created_at) values ('lock-holder', 'noop', 0)");
let complete = false;
let text = "";
try {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "sk-placeholder" },
    body: JSON.stringify({ model: "claude-test", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] }),
    proxy: proxyUrl,
    tls: { ca: await Bun.file(caFile).text() },
    signal: AbortSignal.timeout(8000),
  } as RequestInit);
  text = await res.text();
  complete = true;
} catch {
  complete = false;
}
console.log(JSON.stringify({ complete, stopped: text.includes("message_stop") }));
raw.exec("rollback");
raw.close();
