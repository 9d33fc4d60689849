/**
 * The client side of the proxy benchmark: runs one cell (a setup, a workload, a concurrency, keep-alive or a
 * new connection per request) with Bun's fetch and prints every request's time to first body byte and to the
 * last byte as JSON. The workload is an Anthropic Messages call: `json` (stream: false, one JSON body) or
 * `sse` (a streamed reply of ~200 events), read to the end. A short warm-up (not recorded) opens the
 * connections first; `served` counts it, since the proxy's CPU is read around the whole cell.
 */
interface Cell {
  url: string;
  proxy?: string;
  workload: "json" | "sse";
  concurrency: number;
  requests: number;
  keepAlive: boolean;
  ca: string[];
  /** Count failed requests (reset, timed out after 60 s) instead of failing the cell. */
  tolerateErrors?: boolean;
}

const cell = JSON.parse(process.argv[2]!) as Cell;
const stream = cell.workload === "sse";
const body = JSON.stringify({ model: "bench", max_tokens: 64, stream, messages: [{ role: "user", content: "hi" }] });

async function once(): Promise<[number, number]> {
  const t0 = performance.now();
  const res = await fetch(cell.url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-api-key": "bench", "anthropic-version": "2023-06-01" },
    keepalive: cell.keepAlive,
    proxy: cell.proxy ?? false,
    tls: { ca: cell.ca },
    ...(cell.tolerateErrors ? { signal: AbortSignal.timeout(60_000) } : {}),
  } as RequestInit);
  const reader = res.body!.getReader();
  let ttfb = -1;
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (ttfb < 0) ttfb = performance.now() - t0;
    bytes += value.byteLength;
  }
  if (res.status !== 200 || bytes < 500) throw new Error(`bad response ${res.status} (${bytes} bytes)`);
  return [ttfb, performance.now() - t0];
}

const ttfb: number[] = [];
let errors = 0;
const total: number[] = [];
let next = 0;
const warm = Math.min(cell.concurrency, 10);
await Promise.all(Array.from({ length: warm }, () => once()));
async function worker(): Promise<void> {
  while (next < cell.requests) {
    next++;
    let r: [number, number];
    try {
      r = await once();
    } catch (e) {
      if (!cell.tolerateErrors) throw e;
      errors++;
      continue;
    }
    ttfb.push(r[0]);
    total.push(r[1]);
  }
}
const start = performance.now();
await Promise.all(Array.from({ length: cell.concurrency }, () => worker()));
console.log(JSON.stringify({ ttfb, total, errors, wallMs: performance.now() - start, served: cell.requests + warm }));
process.exit(0);
export {};
