/**
 * Reads the SNI server name out of the first TLS record a client sends after CONNECT. The proxy hands the
 * decrypted side to a Bun.serve listener that cannot report SNI, so the check that the TLS server name and
 * the CONNECT host agree (domain fronting) is done here, on the raw ClientHello, before any byte is piped.
 * Pure: bytes in, a tagged result out.
 */

export type HelloResult =
  | { kind: "incomplete" }
  | { kind: "not-tls" }
  | { kind: "hello"; sni?: string };

const MAX_RECORD = 16384 + 2048;

export function parseClientHello(buf: Uint8Array): HelloResult {
  if (buf.length < 1) return { kind: "incomplete" };
  if (buf[0] !== 0x16) return { kind: "not-tls" }; // handshake record
  if (buf.length < 5) return { kind: "incomplete" };
  if (buf[1] !== 0x03) return { kind: "not-tls" };
  const recLen = (buf[3]! << 8) | buf[4]!;
  if (recLen === 0 || recLen > MAX_RECORD) return { kind: "not-tls" };
  if (buf.length < 5 + recLen) return { kind: "incomplete" };
  const rec = buf.subarray(5, 5 + recLen);
  if (rec[0] !== 0x01) return { kind: "not-tls" }; // ClientHello
  return { kind: "hello", sni: findSni(rec) };
}

/** Walks the ClientHello body to the server_name extension. A truncated message yields no SNI. */
function findSni(msg: Uint8Array): string | undefined {
  const end = Math.min(msg.length, 4 + ((msg[1]! << 16) | (msg[2]! << 8) | msg[3]!));
  let i = 4 + 2 + 32; // header, legacy_version, random
  if (i >= end) return undefined;
  i += 1 + msg[i]!; // session id
  if (i + 2 > end) return undefined;
  i += 2 + ((msg[i]! << 8) | msg[i + 1]!); // cipher suites
  if (i >= end) return undefined;
  i += 1 + msg[i]!; // compression methods
  if (i + 2 > end) return undefined;
  const extEnd = Math.min(end, i + 2 + ((msg[i]! << 8) | msg[i + 1]!));
  i += 2;
  while (i + 4 <= extEnd) {
    const type = (msg[i]! << 8) | msg[i + 1]!;
    const len = (msg[i + 2]! << 8) | msg[i + 3]!;
    i += 4;
    if (type === 0 && i + len <= extEnd) return readServerName(msg.subarray(i, i + len));
    i += len;
  }
  return undefined;
}

function readServerName(ext: Uint8Array): string | undefined {
  let i = 2; // server_name_list length
  while (i + 3 <= ext.length) {
    const type = ext[i]!;
    const len = (ext[i + 1]! << 8) | ext[i + 2]!;
    i += 3;
    if (type === 0 && i + len <= ext.length) return new TextDecoder().decode(ext.subarray(i, i + len)).toLowerCase();
    i += len;
  }
  return undefined;
}

/** A fatal TLS alert (unrecognized_name), so a fronting client fails its handshake with a clear reason. */
export const TLS_ALERT_UNRECOGNIZED_NAME = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]);
