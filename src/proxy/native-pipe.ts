/**
 * Two native Bun sockets joined into one byte stream, for the proxy's hops: the accepted connection into
 * the run's Bun.serve TLS listener, or into the node:http listener that handles everything else. Each chunk
 * is written straight to the other side: one call per chunk, no Node stream in the way.
 *
 * Bun sockets do not queue: `write` sends what the kernel takes and returns the count. What is not taken
 * is held here, and the side it came from is paused until the other side drains, so a slow reader holds
 * its writer back and the bytes held per connection stay bounded by one read. Either side closing ends the
 * other once its held bytes are flushed.
 */
import type { Socket } from "bun";

export interface PipeEnd {
  sock: Socket<unknown>;
  /** Bytes written to this socket that it has not taken yet. */
  held: Uint8Array[];
  /** The peer closed: end this socket once `held` is flushed. */
  ending: boolean;
  closed: boolean;
  peer?: PipeEnd;
}

export function pipeEnd(sock: Socket<unknown>): PipeEnd {
  return { sock, held: [], ending: false, closed: false };
}

export function join(a: PipeEnd, b: PipeEnd): void {
  a.peer = b;
  b.peer = a;
}

/** `to` is given bytes read from its peer. */
export function send(to: PipeEnd, d: Uint8Array): void {
  if (to.closed) return;
  if (to.held.length > 0) {
    to.held.push(d);
    return;
  }
  const n = to.sock.write(d);
  if (n < 0) return;
  if (n < d.byteLength) {
    to.held.push(n > 0 ? d.subarray(n) : d);
    to.peer?.sock.pause();
  }
}

/** `end`'s socket can take more: flush what it holds, then let its peer read again. */
export function drained(end: PipeEnd): void {
  while (end.held.length > 0 && !end.closed) {
    const d = end.held[0]!;
    const n = end.sock.write(d);
    if (n < 0) return;
    if (n < d.byteLength) {
      end.held[0] = n > 0 ? d.subarray(n) : d;
      return;
    }
    end.held.shift();
  }
  if (end.ending) end.sock.end();
  else if (end.peer && !end.peer.closed) end.peer.sock.resume();
}

/** `end`'s socket closed: the peer ends after flushing what it still holds. */
export function closed(end: PipeEnd): void {
  if (end.closed) return;
  end.closed = true;
  end.held.length = 0;
  const p = end.peer;
  if (!p || p.closed) return;
  if (p.held.length === 0) p.sock.end();
  else p.ending = true;
  // A peer that never drains must not keep the socket forever.
  setTimeout(() => p.closed || p.sock.terminate(), 2000).unref();
}
