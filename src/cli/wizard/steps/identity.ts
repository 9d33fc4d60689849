/**
 * Step 3: how the run is named and tagged. The label defaults to the agent name (the launcher makes it
 * unique among running bottles with -2, -3, …); the color is one of the 16 ANSI names, each option shown
 * in its own color so the choice is visual.
 */
import { select, text } from "@clack/prompts";
import { ANSI_COLORS, type AnsiColor } from "../../../launch/types.ts";
import { paint } from "../paint.ts";
import { BottleError } from "../../../errors.ts";
import { checkRequest } from "../../../launch/validate.ts";
import { answered } from "../cancel.ts";

/** The launcher's own label rule (checkRequest), so the wizard never accepts a label the launch refuses. */
export function labelProblem(value: string | undefined): string | undefined {
  const label = (value ?? "").trim();
  if (label === "") return undefined;
  try {
    checkRequest({ agent: "wizard", headless: false, label });
    return undefined;
  } catch (e) {
    return e instanceof BottleError ? (e.context.fix ?? e.message) : String(e);
  }
}

export async function askLabel(agentName: string): Promise<string> {
  const v = answered(
    await text({ message: "Label for this run", placeholder: agentName, defaultValue: agentName, validate: labelProblem }),
  );
  return v.trim() === "" ? agentName : v.trim();
}

/** A stable default color per label, so the same agent tends to keep its color between runs. */
export function defaultColor(label: string): AnsiColor {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  // Skip black and white (index 0, 7) and bright-black/white (8, 15): they vanish on one theme or the other.
  const usable = ANSI_COLORS.filter((_, i) => i % 8 !== 0 && i % 8 !== 7);
  return usable[h % usable.length]!;
}

export async function askColor(label: string, colorOn: boolean): Promise<AnsiColor> {
  return answered(
    await select<AnsiColor>({
      message: "Color",
      options: ANSI_COLORS.map((c) => ({ value: c, label: paint(`■ ${c}`, c, colorOn) })),
      initialValue: defaultColor(label),
      maxItems: 16,
    }),
  );
}
