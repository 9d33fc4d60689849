/**
 * The server side of the proxy benchmark, one role per process so the client, the proxies and the upstream
 * never share an event loop: `upstream` runs the simulated provider over TLS; `proxies` runs a plain TCP
 * relay (a minimal CONNECT proxy that only pipes bytes: the floor for any proxy) and bottle's proxy with two
 * runs, one tunneling and one intercepting with the real metering hooks. Each prints its ports as one JSON
 * line on stdout, then serves until killed.
 */
import { createServer } from "node:http";
import { connect } from "node:net";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { LeafIssuer } from "../../src/ca/leaf.ts";
import type { MeterResult } from "../../src/metering/types.ts";
import { createProxy } from "../../src/proxy/proxy.ts";
import { startSimulator } from "../../src/simulator/server.ts";
import { collectingMeterHooks } from "../../tests/helpers/metering-hooks.ts";

const [role, upstreamCaDir, bottleCaDir, upstreamPort] = process.argv.slice(2);

if (role === "upstream") {
  const leaf = new LeafIssuer(loadOrCreateCa(upstreamCaDir!)).issue("127.0.0.1");
  const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
  // The first event goes out at once, the rest after a 5 ms pause: time to first byte is then the time to the
  // first event, not to the whole (otherwise instant) stream.
  const sim = startSimulator({ tls: { cert: leaf.certPem, key: leaf.keyPem }, text: words, beforeEvent: (i) => (i === 1 ? Bun.sleep(5) : undefined) });
  console.log(JSON.stringify({ port: sim.port }));
} else if (role === "proxies") {
  const relay = createServer();
  relay.on("connect", (req, socket, head) => {
    const [host, port] = (req.url ?? "").split(":");
    const up = connect(Number(port), host!, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
    });
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
  const upstreamCa = loadOrCreateCa(upstreamCaDir!);
  const results: (MeterResult & { host: string; path: string })[] = [];
  const metering = collectingMeterHooks(results);
  const proxy = createProxy({ caDir: bottleCaDir!, upstreamCa: [upstreamCa.certPem], hooks: { ...metering, onResponseEnd: (ctx) => { metering.onResponseEnd?.(ctx); results.length = 0; } } });
  const upstream = `https://127.0.0.1:${upstreamPort}`;
  const tunnel = await proxy.openRun({ runId: "bench-tunnel", routes: [{ host: "127.0.0.1", mitm: false }] });
  const mitm = await proxy.openRun({ runId: "bench-mitm", routes: [{ host: "api.anthropic.com", upstream }] });
  console.log(JSON.stringify({ relay: `http://127.0.0.1:${(relay.address() as { port: number }).port}`, tunnel: tunnel.proxyUrl, mitm: mitm.proxyUrl }));
} else {
  console.error("usage: servers.ts upstream|proxies <upstream-ca-dir> <bottle-ca-dir> [upstream-port]");
  process.exit(2);
}
