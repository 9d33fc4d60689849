/**
 * An attached run names its terminal after the run's label, so a user with several runs in tabs or tmux
 * panes sees which is which. The title the terminal had before is pushed on xterm's title stack (CSI 22 t)
 * and popped back (CSI 23 t) when the agent exits; terminals without the stack ignore both. The label is
 * checked at launch (letters, digits, `.`, `_`, `-`), so it cannot carry an escape of its own; anything
 * else is dropped here anyway.
 */

const ESC = "\x1b";
const BEL = "\x07";

/** The bytes that save the current title and set `label` (OSC 0: window and icon title). */
export function titleSequence(label: string): string {
  const clean = label.replace(/[^\x20-\x7e]/g, "");
  return `${ESC}[22;0t${ESC}]0;${clean}${BEL}`;
}

/** The bytes that bring the saved title back. */
export const RESTORE_TITLE = `${ESC}[23;0t`;

export function setTerminalTitle(label: string, out: { write(s: string): unknown } = process.stdout): { restore(): void } {
  out.write(titleSequence(label));
  return { restore: () => void out.write(RESTORE_TITLE) };
}
