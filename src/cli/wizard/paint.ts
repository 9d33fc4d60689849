/**
 * Run colors on screen. A run's color is one of the 16 ANSI names (src/launch/types.ts); this maps a name to
 * its standard foreground code (30–37, then 90–97 for the bright ones), so an option reads in its own color
 * whatever the terminal's theme does with the palette.
 */
import { ANSI_COLORS, type AnsiColor } from "../../launch/types.ts";

export function sgrCode(color: AnsiColor): number {
  const i = ANSI_COLORS.indexOf(color);
  return i < 8 ? 30 + i : 90 + (i - 8);
}

/** `text` in the color's escape codes; plain when `enabled` is false (NO_COLOR). */
export function paint(text: string, color: AnsiColor, enabled: boolean): string {
  return enabled ? `\x1b[${sgrCode(color)}m${text}\x1b[39m` : text;
}
