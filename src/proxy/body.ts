/**
 * Bounded request-body reading. Hooks see the whole request body (metering reads `model` and `max_tokens`,
 * and may rewrite it), so it is buffered, but never beyond the proxy's limit: a larger body is answered 413
 * instead of being held in memory.
 */

export class BodyTooLarge extends Error {}

export async function readBounded(body: ReadableStream<Uint8Array> | null, declaredLength: string | null, max: number): Promise<Uint8Array> {
  if (declaredLength !== null && Number(declaredLength) > max) throw new BodyTooLarge(`request body of ${declaredLength} bytes exceeds ${max}`);
  if (!body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(`request body exceeds ${max} bytes`);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
