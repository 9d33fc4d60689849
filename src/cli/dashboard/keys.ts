/**
 * Keys of the dashboard, as a pure reducer: raw terminal input is decoded into key names, and each key moves
 * the view state and may ask for an effect (send a control command, quit). Keeping this free of I/O lets the
 * tests drive every binding, and keeps the loop in tui.ts down to reading, reducing and drawing.
 *
 *   ↑ ↓, K j, g G   move the selection (lowercase k is kill, so vi's "up" is the capital K here)
 *   c f r           cut off, freeze, restore the selected run    k  kill it (asks y/N first)
 *   l               show or hide the selected run's egress log   Esc  close the log
 *   q, Ctrl-C       quit
 */
import type { ControlCommand } from "../../enforce/cutoff.ts";

export type Key = "up" | "down" | "home" | "end" | "escape" | "enter" | "ctrl-c" | string;

/** Splits one chunk of terminal input into keys (arrow escape sequences, control bytes, characters). */
export function decodeKeys(chunk: string): Key[] {
  const keys: Key[] = [];
  for (let i = 0; i < chunk.length; ) {
    const rest = chunk.slice(i);
    const seq = /^\x1b(?:\[|O)([ABHF])/.exec(rest) ?? /^\x1b\[([14])~/.exec(rest);
    if (seq) {
      keys.push({ A: "up", B: "down", H: "home", F: "end", "1": "home", "4": "end" }[seq[1]!]!);
      i += seq[0].length;
      continue;
    }
    const ch = chunk[i]!;
    if (ch === "\x03") keys.push("ctrl-c");
    else if (ch === "\x1b") keys.push("escape");
    else if (ch === "\r" || ch === "\n") keys.push("enter");
    else keys.push(ch);
    i += 1;
  }
  return keys;
}

export type Tone = "busy" | "ok" | "error";

export interface Note {
  text: string;
  tone: Tone;
}

export interface ViewState {
  /** The selected run's id (rows move as runs come and go; the selection stays on its run). */
  selected?: string;
  /** The latest command outcome per run, shown on its row. */
  notes: Record<string, Note>;
  /** A kill waiting for y/N. */
  confirm?: { runId: string; label: string };
  /** The run whose egress log is open. */
  log?: { runId: string; label: string };
  /** A line for the status bar (a key that did nothing, say). */
  message?: Note;
}

export type Effect = { type: "quit" } | { type: "send"; runId: string; label: string; command: ControlCommand };

export interface RowRef {
  runId: string;
  label: string;
}

const COMMANDS: Record<string, ControlCommand> = { c: "cutoff", f: "freeze", r: "restore" };

function move(rows: readonly RowRef[], selected: string | undefined, by: number | "first" | "last"): string | undefined {
  if (rows.length === 0) return undefined;
  const at = rows.findIndex((r) => r.runId === selected);
  const next = by === "first" ? 0 : by === "last" ? rows.length - 1 : at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + by));
  return rows[next]!.runId;
}

/** The selection, kept on its run while the run is listed, else the first row. */
export function keepSelection(rows: readonly RowRef[], selected: string | undefined): string | undefined {
  return rows.some((r) => r.runId === selected) ? selected : rows[0]?.runId;
}

export function reduce(state: ViewState, key: Key, rows: readonly RowRef[]): { state: ViewState; effect?: Effect } {
  const { message: _old, ...s } = state;
  if (key === "ctrl-c") return { state: s, effect: { type: "quit" } };
  if (s.confirm) {
    const { confirm, ...rest } = s;
    if (key === "y" || key === "Y") return { state: rest, effect: { type: "send", runId: confirm.runId, label: confirm.label, command: "kill" } };
    return { state: { ...rest, message: { text: `kill of ${confirm.label} cancelled`, tone: "ok" } } };
  }
  if (key === "q") return { state: s, effect: { type: "quit" } };
  if (key === "escape") {
    const { log: _log, ...rest } = s;
    return { state: rest };
  }
  if (key === "up" || key === "K") return { state: { ...s, ...sel(move(rows, s.selected, -1)) } };
  if (key === "down" || key === "j") return { state: { ...s, ...sel(move(rows, s.selected, 1)) } };
  if (key === "home" || key === "g") return { state: { ...s, ...sel(move(rows, s.selected, "first")) } };
  if (key === "end" || key === "G") return { state: { ...s, ...sel(move(rows, s.selected, "last")) } };
  const row = rows.find((r) => r.runId === s.selected);
  if (!row) return key in COMMANDS || key === "k" || key === "l" ? { state: { ...s, message: { text: "no run selected", tone: "error" } } } : { state: s };
  if (key in COMMANDS) return { state: s, effect: { type: "send", runId: row.runId, label: row.label, command: COMMANDS[key]! } };
  if (key === "k") return { state: { ...s, confirm: { runId: row.runId, label: row.label } } };
  if (key === "l") {
    if (s.log) {
      const { log: _log, ...rest } = s;
      return { state: rest };
    }
    return { state: { ...s, log: { runId: row.runId, label: row.label } } };
  }
  return { state: s };
}

function sel(runId: string | undefined): Pick<ViewState, "selected"> {
  return runId === undefined ? {} : { selected: runId };
}
