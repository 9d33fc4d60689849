/**
 * The `<run>` argument the run commands share (`bottle stop`, `bottle logs`, `bottle budget
 * cutoff|restore`): a run id or a live run's label, as `bottle ps` lists them. Declared once here.
 */
import { UsageError } from "../errors.ts";

export const runArg = { type: "positional", required: false, description: "Run id or label (see `bottle ps`)." } as const;

/** The run named on the command line, or a usage error showing `usage`. */
export function runRef(value: unknown, usage: string): string {
  if (typeof value === "string" && value !== "") return value;
  throw new UsageError("which run?", { key: "run", fix: `usage: ${usage} (run ids and labels are in \`bottle ps\`)` });
}
