import { describe, expect, test } from "bun:test";
import { SseReader, type SseEvent } from "../../src/metering/sse/reader.ts";
import { byteByByte, bytes, fixture, splitAt, withEndings } from "./helpers.ts";

function read(chunks: Uint8Array[]): SseEvent[] {
  const r = new SseReader();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...r.push(c));
  out.push(...r.finish());
  return out;
}

const strip = (evs: SseEvent[]) => evs.map(({ event, data, id }) => ({ event, data, id }));

describe("SSE reader: line endings", () => {
  const lf = fixture("anthropic", "text-cache.sse");
  const expected = strip(read([lf]));

  test("the recorded stream yields one event per block with its event name", () => {
    expect(expected.map((e) => e.event)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(JSON.parse(expected[3]!.data).delta.text).toBe("Bonjour — le café est prêt");
  });

  test("CRLF and CR line endings give the same events as LF", () => {
    expect(strip(read([withEndings(lf, "\r\n")]))).toEqual(expected);
    expect(strip(read([withEndings(lf, "\r")]))).toEqual(expected);
  });

  test("a CRLF split between two chunks is one terminator, not an extra blank line", () => {
    const evs = read([bytes("data: a\r"), bytes("\ndata: b\r"), bytes("\n\r"), bytes("\n")]);
    expect(strip(evs)).toEqual([{ event: "message", data: "a\nb", id: undefined }]);
  });
});

describe("SSE reader: chunk boundaries", () => {
  const crlf = withEndings(fixture("anthropic", "short.sse"), "\r\n");
  const whole = read([crlf]);

  test("splitting at every byte offset (inside CRLF and inside multi-byte characters) changes nothing", () => {
    for (let i = 0; i <= crlf.length; i++) expect(read(splitAt(crlf, i))).toEqual(whole);
  });

  test("one byte per chunk gives the same events, offsets included", () => {
    expect(read(byteByByte(crlf))).toEqual(whole);
  });

  test("a caller that reuses its chunk buffer after push does not corrupt held bytes", () => {
    const r = new SseReader();
    const buf = bytes("data: hel");
    expect(r.push(buf)).toEqual([]);
    buf.fill(0x58); // the proxy's read buffer is refilled
    expect(r.push(bytes("lo\n\n")).map((e) => e.data)).toEqual(["hello"]);
  });

  test("each event's byte range covers its block exactly", () => {
    const s = "event: a\ndata: 1\n\n: note\ndata: 2\n\n";
    const evs = read([bytes(s)]);
    expect(evs.map((e) => s.slice(e.start, e.end))).toEqual(["event: a\ndata: 1\n\n", ": note\ndata: 2\n\n"]);
  });
});

describe("SSE reader: fields", () => {
  test("comments are skipped, multi-line data is joined with newlines, id persists", () => {
    const s = ": keep-alive\n\nid: 7\nevent: update\ndata: {\"a\":\ndata:1}\n\ndata: second\n\n";
    expect(strip(read([bytes(s)]))).toEqual([
      { event: "update", data: '{"a":\n1}', id: "7" },
      { event: "message", data: "second", id: "7" },
    ]);
  });

  test("a block without data is not dispatched; a field without a colon is a field with an empty value", () => {
    expect(read([bytes("event: ping\n\n")])).toEqual([]);
    expect(strip(read([bytes("data\n\n")]))).toEqual([{ event: "message", data: "", id: undefined }]);
  });

  test("invalid JSON and [DONE] pass through as data; the reader does not judge payloads", () => {
    expect(strip(read([bytes("data: {not json\n\ndata: [DONE]\n\n")])).map((e) => e.data)).toEqual(["{not json", "[DONE]"]);
  });

  test("a leading byte-order mark is ignored", () => {
    expect(strip(read([new Uint8Array([0xef, 0xbb, 0xbf]), bytes("data: x\n\n")]))[0]!.data).toBe("x");
  });

  test("a stream cut after a complete data line still yields that event on finish", () => {
    expect(strip(read([bytes('data: {"type":"message_stop"}\n')]))[0]!.data).toBe('{"type":"message_stop"}');
  });

  test("random bytes never throw", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    const junk = new Uint8Array(4096).map(() => [10, 13, 58, 0xf0, 0x9f][rnd() % 5] ?? 0);
    for (let i = 0; i < junk.length; i++) junk[i] = rnd() % 3 === 0 ? junk[i]! : rnd() & 0xff;
    expect(() => read([junk.subarray(0, 1000), junk.subarray(1000)])).not.toThrow();
  });
});
