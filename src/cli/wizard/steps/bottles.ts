/**
 * Step 2: which bottles to compose. A multiselect over every bottle in $BOTTLE_HOME with the agent's
 * default bottle (or the bottles given on the command line) already ticked. The answer keeps the order in
 * which bottles were ticked, and composition order matters (later env wins), so the preflight summary
 * shows the final order before anything starts.
 */
import { multiselect } from "@clack/prompts";
import type { BottleManifest } from "../../../manifest/types.ts";
import { answered } from "../cancel.ts";
import { sourceText } from "../source-text.ts";

export function bottleRows(bottles: readonly BottleManifest[], cwd: string, home: string): { value: string; label: string; hint: string }[] {
  return bottles.map((b) => ({
    value: b.name,
    label: b.name,
    hint: [b.extends.length > 0 ? `extends ${b.extends.join(", ")}` : "", sourceText(b, cwd, home)].filter(Boolean).join(" · "),
  }));
}

export async function askBottles(bottles: readonly BottleManifest[], preselected: readonly string[], cwd: string, home: string): Promise<string[]> {
  const known = new Set(bottles.map((b) => b.name));
  const ticked = preselected.filter((n) => known.has(n));
  return answered(
    await multiselect<string>({
      message: "Which bottles? (space toggles; composed in the order ticked)",
      options: bottleRows(bottles, cwd, home),
      initialValues: ticked,
      ...(ticked[0] !== undefined ? { cursorAt: ticked[0] } : {}),
      required: true,
      maxItems: 12,
    }),
  );
}
