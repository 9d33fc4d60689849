/**
 * Canonical JSON: the one byte string a record is signed as. A signature is only worth something if the
 * verifier rebuilds exactly the bytes the signer signed, so keys are sorted (by UTF-16 code units, as
 * RFC 8785 does), there is no whitespace, numbers are integers or finite decimals in JavaScript's own
 * shortest form, and anything JSON cannot carry faithfully (undefined, NaN, functions) is an error rather
 * than silently dropped. Pure.
 */
import { createHash } from "node:crypto";

export class CanonicalJsonError extends Error {}

function encode(v: unknown, path: string): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "string":
      return JSON.stringify(v);
    case "number":
      if (!Number.isFinite(v)) throw new CanonicalJsonError(`${path} is ${v}, which canonical JSON cannot carry`);
      return Object.is(v, -0) ? "0" : JSON.stringify(v);
    case "object": {
      if (Array.isArray(v)) return `[${v.map((x, i) => encode(x, `${path}[${i}]`)).join(",")}]`;
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(o[k], `${path}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new CanonicalJsonError(`${path} is a ${typeof v}, which canonical JSON cannot carry`);
  }
}

/** The canonical text of `v` (object keys whose value is undefined are left out, as JSON.stringify does). */
export function canonicalJson(v: unknown): string {
  return encode(v, "$");
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `sha256:<hex>` of the canonical text of `v`. */
export function canonicalHash(v: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(v))}`;
}
