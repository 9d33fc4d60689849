/**
 * `--budget N`, shared by `bottle run`, `bottle resume` and `bottle proxy`: one parser, so every command
 * accepts the same spellings and gives the same error.
 */
import { UsageError } from "../errors.ts";

/** `--budget 50000` (also 50_000 or 50,000): a positive whole number of tokens. */
export function parseBudget(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/[_,]/g, ""));
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--budget ${JSON.stringify(v)} is not a positive whole number of tokens`, { key: "--budget", fix: "e.g. --budget 50000" });
  return n;
}
