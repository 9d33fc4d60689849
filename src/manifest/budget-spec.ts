/**
 * `budget:` as written in agents, bottles and settings.yml: token limits keyed by provider, each either a
 * positive whole number (`claude: 5000000`) or `{tokens, per: day|week|month}`. Anything else — a
 * negative, a fraction, a quoted number, an unknown provider or window — is an error at load, because a
 * budget that silently does not apply is worse than none.
 */
import { PROVIDERS, WINDOWS, type BudgetLimit, type BudgetSpec } from "./types.ts";
import { describe, isRecord, keyName, type Checker } from "./check.ts";
import type { KeyPath } from "./frontmatter.ts";

const EXAMPLE = "e.g. claude: 5000000, or codex: { tokens: 2000000, per: day }";

function tokens(c: Checker, v: unknown, path: KeyPath): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    c.fail(path, `${keyName(path)} must be a positive whole number of tokens, not ${describe(v)}`, EXAMPLE);
  }
  return v;
}

export function checkLimit(c: Checker, v: unknown, path: KeyPath): BudgetLimit {
  if (!isRecord(v)) return { tokens: tokens(c, v, path) };
  const m = c.mapping(v, path, ["tokens", "per"]);
  if (m.tokens === undefined) c.fail(path, `${keyName(path)} is missing tokens`, EXAMPLE, "key");
  const out: BudgetLimit = { tokens: tokens(c, m.tokens, [...path, "tokens"]) };
  if (m.per !== undefined) out.per = c.oneOf(m.per, [...path, "per"], WINDOWS);
  return out;
}

export function checkBudget(c: Checker, v: unknown, path: KeyPath = ["budget"]): BudgetSpec | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isRecord(v)) c.fail(path, `${keyName(path)} must be a mapping of provider to tokens, not ${describe(v)}`, EXAMPLE);
  const m = c.mapping(v, path, PROVIDERS);
  const spec: BudgetSpec = {};
  for (const p of PROVIDERS) if (m[p] !== undefined) spec[p] = checkLimit(c, m[p], [...path, p]);
  return Object.keys(spec).length > 0 ? spec : undefined;
}
