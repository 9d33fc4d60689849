/**
 * The floor of the proxy benchmark: the least any CONNECT proxy can cost, one relay per process so each
 * one's CPU and memory are its own. Plain JavaScript on node:net / node:tls only, so it runs under Node
 * (the reference) or Bun alike.
 *
 *   tcp: answers CONNECT and pipes bytes to the target; the client's TLS goes end to end.
 *   tls: answers CONNECT, terminates the client's TLS with the given leaf certificate, opens its own TLS
 *        connection to the upstream and pipes the decrypted bytes both ways: what a MITM proxy must at
 *        least do, with no HTTP parsing, no metering and no policy.
 *
 * Usage: floor.mjs tcp|tls <upstream-port> [leaf-cert.pem leaf-key.pem upstream-ca.pem]
 * Prints {"url": "http://127.0.0.1:<port>"} on stdout, then serves until killed.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { connect as tlsConnect, TLSSocket } from "node:tls";

const [kind, upstreamPort, certPath, keyPath, caPath] = process.argv.slice(2);
const tls = kind === "tls" ? { cert: readFileSync(certPath), key: readFileSync(keyPath), ca: readFileSync(caPath) } : undefined;

const server = createServer();
server.on("connect", (req, socket, head) => {
  socket.on("error", () => socket.destroy());
  if (!tls) {
    const [host, port] = (req.url ?? "").split(":");
    const up = connect(Number(port), host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
    });
    up.on("error", () => socket.destroy());
    socket.on("close", () => up.destroy());
    return;
  }
  // Every CONNECT goes to the one upstream, as bottle's `--upstream` does.
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  if (head.length) socket.unshift(head);
  const client = new TLSSocket(socket, { isServer: true, cert: tls.cert, key: tls.key, ALPNProtocols: ["http/1.1"] });
  const up = tlsConnect({ host: "127.0.0.1", port: Number(upstreamPort), ca: tls.ca, ALPNProtocols: ["http/1.1"] });
  client.pipe(up);
  up.pipe(client);
  client.on("error", () => up.destroy());
  up.on("error", () => client.destroy());
  client.on("close", () => up.destroy());
  up.on("close", () => client.destroy());
});
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}`, runtime: typeof Bun === "undefined" ? `node ${process.version}` : `bun ${Bun.version}` }));
});
