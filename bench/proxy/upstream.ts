/**
 * The upstream of the proxy benchmark, in its own process so the client, the proxies and the upstream never
 * share an event loop: the simulated provider over TLS, with a reply of 200 words (so a streamed call is
 * ~200 SSE events, the size of a real model turn). The first event goes out at once and the rest after a
 * 5 ms pause, so time to first byte is the time to the first event, not to the whole stream (the ledger
 * benchmark asks for a shorter reply). Prints
 * {"port"} as one JSON line on stdout, then serves until killed.
 */
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { LeafIssuer } from "../../src/ca/leaf.ts";
import { startSimulator } from "../../src/simulator/server.ts";

const [caDir, wordCount = "200"] = process.argv.slice(2);
if (!caDir) {
  console.error("usage: upstream.ts <upstream-ca-dir> [reply words, default 200]");
  process.exit(2);
}
const leaf = new LeafIssuer(loadOrCreateCa(caDir)).issue("127.0.0.1");
const words = Array.from({ length: Number(wordCount) }, (_, i) => `word${i}`).join(" ");
const sim = startSimulator({ tls: { cert: leaf.certPem, key: leaf.keyPem }, text: words, beforeEvent: (i) => (i === 1 ? Bun.sleep(5) : undefined) });
console.log(JSON.stringify({ port: sim.port }));
