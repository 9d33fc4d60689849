/**
 * `--budget N`, shared by `bottle run`, `bottle resume` and `bottle proxy`: one parser, so every command
 * accepts the same spellings and gives the same error. Only decimal digits (with `_` or `,` between
 * groups) are a token count: `Number()` alone would read `0x10` as 16, `1e3` as 1000 and `0o7` as 7, and a
 * budget typed by mistake in one of those forms would run with a limit nobody meant.
 */
import { UsageError } from "../errors.ts";

const DECIMAL = /^\d+(?:[_,]\d+)*$/;

/** `--budget 50000` (also 50_000 or 50,000): a positive whole number of tokens. */
export function parseBudget(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  const n = DECIMAL.test(t) ? Number(t.replace(/[_,]/g, "")) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--budget ${JSON.stringify(v)} is not a positive whole number of tokens`, { key: "--budget", fix: "write it in decimal digits, e.g. --budget 50000 (or 50_000)" });
  return n;
}
