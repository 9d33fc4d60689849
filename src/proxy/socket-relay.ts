/**
 * Relays a CONNECT socket accepted by node:http (front.ts hands it the requests it does not take itself)
 * into the run's Bun.serve TLS listener on its unix socket. Bun.serve can
 * take no socket it did not accept itself, so this hop stays, but it is made as cheap as a hop can be: the
 * inner side is a native Bun socket (no Node stream on it), and each chunk is written straight through,
 * one call per chunk per direction, instead of through two `pipe()`s. Measured on the proxy benchmark,
 * this is about a third of the proxy's CPU per streamed response (docs/proxy.md, "One TLS termination").
 *
 * Backpressure is kept both ways: a Bun socket writes what the kernel takes and returns the count, so what
 * it did not take is held (bounded by pausing the client socket until `drain`), and a full client socket
 * pauses the inner one until the client drains. Either side closing closes the other.
 */
import type { Duplex } from "node:stream";

type Inner = Awaited<ReturnType<typeof Bun.connect<undefined>>>;

/** Ends a socket after its pending writes flush (destroying at once would drop them), with a backstop. */
export function closeGracefully(s: Duplex): void {
  if (s.destroyed) return;
  s.end();
  setTimeout(() => s.destroy(), 2000).unref();
}

export function relayToUnix(client: Duplex, socketPath: string, first: Uint8Array): void {
  client.pause();
  let inner: Inner | undefined;
  let closed = false;
  let clientEnded = false;
  /** Bytes the inner socket has not taken yet; while any are held, the client is paused. */
  const held: Uint8Array[] = [];

  const toInner = (d: Uint8Array): void => {
    if (!inner || closed) return;
    if (held.length > 0) {
      held.push(d);
      return;
    }
    const n = inner.write(d);
    if (n < d.byteLength) {
      held.push(n > 0 ? d.subarray(n) : d);
      client.pause();
    }
  };
  const flush = (): void => {
    while (inner && held.length > 0) {
      const d = held[0]!;
      const n = inner.write(d);
      if (n < d.byteLength) {
        held[0] = n > 0 ? d.subarray(n) : d;
        return;
      }
      held.shift();
    }
    if (clientEnded) inner?.end();
    else if (!closed) client.resume();
  };
  const shut = (): void => {
    if (closed) return;
    closed = true;
    held.length = 0;
    inner?.end();
    closeGracefully(client);
  };

  client.on("close", () => {
    if (closed) return;
    closed = true;
    held.length = 0;
    inner?.terminate();
  });
  client.on("end", () => {
    clientEnded = true;
    if (held.length === 0) inner?.end();
  });

  Bun.connect({
    unix: socketPath,
    socket: {
      open(s) {
        if (closed) return void s.terminate();
        inner = s;
        toInner(first);
        client.on("data", toInner);
        if (held.length === 0) client.resume();
      },
      data(s, d) {
        if (!client.write(d)) {
          s.pause();
          client.once("drain", () => s.resume());
        }
      },
      drain: flush,
      close: shut,
      error: shut,
      connectError: () => {
        closed = true;
        client.destroy();
      },
    },
  }).catch(() => {
    closed = true;
    client.destroy();
  });
}
