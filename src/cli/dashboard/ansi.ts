/**
 * The few terminal escapes the dashboard uses, in one place: SGR colors (left out entirely under NO_COLOR
 * or when the output is not a terminal), the alternate screen, cursor visibility and homing. Layout works
 * on plain text; color is applied to cells already padded to their width, so widths never count escapes.
 */

const NAMED: Record<string, number> = { black: 30, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37 };

/** SGR foreground code of one of the 16 ANSI color names a run can carry ("bright-cyan" → 96). */
export function colorCode(name: string | null | undefined): number | undefined {
  if (!name) return undefined;
  const bright = name.startsWith("bright-");
  const base = NAMED[bright ? name.slice(7) : name];
  return base === undefined ? undefined : base + (bright ? 60 : 0);
}

export const SGR = { bold: 1, dim: 2, inverse: 7, red: 31, green: 32, yellow: 33, cyan: 36, gray: 90 } as const;

/** Wraps text in SGR codes, or returns it untouched when color is off. */
export type Paint = (text: string, ...codes: Array<number | undefined>) => string;

export function painter(color: boolean): Paint {
  if (!color) return (text) => text;
  return (text, ...codes) => {
    const c = codes.filter((x): x is number => x !== undefined);
    return c.length === 0 || text === "" ? text : `\x1b[${c.join(";")}m${text}\x1b[0m`;
  };
}

/** NO_COLOR (set and not empty, as no-color.org asks) turns color off, as does output that is not a terminal. */
export function colorWanted(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  return isTTY && !env.NO_COLOR;
}

export const TERM = {
  enterAlt: "\x1b[?1049h",
  leaveAlt: "\x1b[?1049l",
  hideCursor: "\x1b[?25l",
  showCursor: "\x1b[?25h",
  home: "\x1b[H",
  clearLine: "\x1b[K",
  clearBelow: "\x1b[J",
  reset: "\x1b[0m",
} as const;

/** Cuts plain text to `width` columns, marking the cut with "…". */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

export function pad(text: string, width: number, align: "left" | "right" = "left"): string {
  const t = fit(text, width);
  return align === "right" ? t.padStart(width) : t.padEnd(width);
}
