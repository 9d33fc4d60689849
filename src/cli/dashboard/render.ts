/**
 * One frame of the dashboard as lines of text, from the view model and the view state: a header, one row per
 * run (label in the run's color, state, age, tokens, last request, rate, a bar of the budget nearest its
 * limit, and the outcome of the last command sent to it), then in the live view the selected run's detail,
 * the host totals against the global budgets, the recent enforcement actions, and the keys. Lines never
 * exceed the width; in the live view the frame never exceeds the height (the sections that matter least
 * give way first, then the rows scroll with the selection). Pure: the same input gives the same frame.
 */
import type { DashboardModel, DashboardRun, RecentAction, RunStatus } from "../../dashboard/types.ts";
import type { EgressAuditRow } from "../../ledger/index.ts";
import { colorCode, fit, pad, painter, SGR, type Paint } from "./ansi.ts";
import { age, bar, clock, gaugeText, percent, riskTone, stamp, thousands, tokens } from "./format.ts";
import type { Note, ViewState } from "./keys.ts";
import { logLines } from "./log-view.ts";

export interface Screen {
  width: number;
  /** Rows available; undefined: as many as the frame needs (`--once`). */
  height?: number;
  color: boolean;
  /** The live view: a selection, the selected run's detail, the keys. */
  interactive: boolean;
}

/** A run of text and its SGR codes; lines are built from these and cut to the width before painting. */
export type Seg = [text: string, ...codes: Array<number | undefined>];

export function compose(segs: readonly Seg[], width: number, paint: Paint, extra: number[] = []): string {
  let out = "";
  let left = width;
  for (const [text, ...codes] of segs) {
    if (left <= 0) break;
    const t = fit(text, left);
    out += paint(t, ...codes, ...extra);
    left -= t.length;
  }
  return out;
}

const STATUS_CODE: Record<RunStatus, number> = { running: SGR.green, "cut off": SGR.red, frozen: SGR.cyan, ended: SGR.gray };
const TONE_CODE = { ok: SGR.green, warn: SGR.yellow, over: SGR.red, busy: SGR.yellow, error: SGR.red } as const;
const BAR = 12;
const MIN_BAR = 6;
/** Rows of runs the live view keeps on screen before it gives up the sections below them. */
const MIN_ROWS = 5;

const noteCode = (n: Note) => TONE_CODE[n.tone];

interface Column {
  head: string;
  cell: (r: DashboardRun) => string;
  right?: boolean;
  max: number;
}

const COLUMNS: Column[] = [
  { head: "LABEL", cell: (r) => r.label, max: 16 },
  { head: "AGENT", cell: (r) => r.agent || "-", max: 10 },
  { head: "PROVIDER", cell: (r) => r.provider ?? "-", max: 8 },
  { head: "BACKEND", cell: (r) => r.backend ?? "-", max: 7 },
  { head: "STATE", cell: (r) => r.status, max: 7 },
  { head: "AGE", cell: (r) => age(r.ageSeconds), right: true, max: 4 },
  { head: "TOKENS", cell: (r) => tokens(r.tokens), right: true, max: 7 },
  { head: "LAST", cell: (r) => (r.lastRequestSecondsAgo === undefined ? "-" : age(r.lastRequestSecondsAgo)), right: true, max: 4 },
  { head: "RATE", cell: (r) => `${r.requestsPerMinute}/m`, right: true, max: 5 },
];

/** The host a run lives on: a column only when the runs listed live on more than one host (a fleet ledger). */
const HOST_COLUMN: Column = { head: "HOST", cell: (r) => r.host ?? "-", max: 14 };

function columnsFor(model: DashboardModel): Column[] {
  return model.hosts.length > 1 ? [COLUMNS[0]!, COLUMNS[1]!, HOST_COLUMN, ...COLUMNS.slice(2)] : COLUMNS;
}

function widths(columns: readonly Column[], rows: readonly DashboardRun[]): number[] {
  return columns.map((c) => Math.min(c.max, Math.max(c.head.length, ...rows.map((r) => c.cell(r).length))));
}

function runLine(columns: readonly Column[], r: DashboardRun, w: number[], barWidth: number, selected: boolean, note: Note | undefined, screen: Screen, paint: Paint): string {
  const segs: Seg[] = [[screen.interactive ? (selected ? "› " : "  ") : "", SGR.bold]];
  columns.forEach((c, i) => {
    const text = pad(c.cell(r), w[i]!, c.right ? "right" : "left");
    const code = i === 0 ? colorCode(r.color) : c.head === "STATE" ? STATUS_CODE[r.status] : undefined;
    segs.push([text, code, i === 0 ? SGR.bold : undefined], ["  "]);
  });
  const g = r.budgets[0];
  // A command's outcome takes the place of the scope word, which the detail panel spells out anyway.
  if (g) segs.push([bar(g.fraction, barWidth), TONE_CODE[riskTone(g.fraction)]], [` ${percent(g.fraction).padStart(4)}${note ? "" : ` ${g.scope.padEnd(6)}`}`]);
  else segs.push([note ? "no budget" : "no budget".padEnd(barWidth + 12), SGR.gray]);
  if (note) segs.push([`  ← ${note.text}`, noteCode(note)]);
  return compose(segs, screen.width, paint, selected && screen.color ? [SGR.inverse] : []).trimEnd();
}

function runTable(model: DashboardModel, view: ViewState, screen: Screen, paint: Paint): { head: string; rows: string[] } {
  const columns = columnsFor(model);
  const w = widths(columns, model.runs);
  // The bar gives way first when the terminal is narrow: room for the percent, the scope and a short note.
  const fixed = (screen.interactive ? 2 : 0) + w.reduce((a, b) => a + b + 2, 0);
  const barWidth = Math.max(MIN_BAR, Math.min(BAR, screen.width - fixed - 12 - 16));
  const head = (screen.interactive ? "  " : "") + [...columns.map((c, i) => pad(c.head, w[i]!, c.right ? "right" : "left")), "BUDGET"].join("  ");
  const rows = model.runs.map((r) => runLine(columns, r, w, barWidth, screen.interactive && r.runId === view.selected, view.notes[r.runId], screen, paint));
  return { head: paint(fit(head, screen.width), SGR.dim), rows };
}

function detail(r: DashboardRun, note: Note | undefined, screen: Screen, paint: Paint): string[] {
  const where = `${r.agent || "proxy"}${r.bottles.length ? ` in ${r.bottles.join(", ")}` : ""} · ${r.backend ?? "no backend"} · pid ${r.pid ?? "-"}${r.host ? ` on ${r.host}` : ""}`;
  const lines: Seg[][] = [[[r.label, colorCode(r.color), SGR.bold], [`  run ${r.runId} · ${where} · started ${clock(r.startedAt)}`]]];
  for (const g of r.budgets) lines.push([["  budget  ", SGR.dim], [`${g.scope}${g.name ? ` ${g.name}` : ""}: `], [gaugeText(g), TONE_CODE[riskTone(g.fraction)]]]);
  if (r.budgets.length === 0) lines.push([["  budget  ", SGR.dim], ["none governs this run", SGR.gray]]);
  lines.push([["  state   ", SGR.dim], [r.status, STATUS_CODE[r.status]], [r.reason ? ` (${r.reason})` : ""], [r.lastRequestAt ? ` · last request ${clock(r.lastRequestAt)}` : ""]]);
  if (note) lines.push([["  sent    ", SGR.dim], [note.text, noteCode(note)]]);
  if (r.record) lines.push([["  record  ", SGR.dim], [`bottle report ${r.runId}`], [`  ${r.record}`, SGR.gray]]);
  return lines.map((l) => compose(l, screen.width, paint));
}

function totals(model: DashboardModel, screen: Screen, paint: Paint): string[] {
  if (model.providers.length === 0) return [];
  const out = [compose([["HOST TOTALS", SGR.bold], ["  tokens today · the global budget over its window", SGR.dim]], screen.width, paint)];
  const tw = Math.max(6, ...model.providers.map((p) => tokens(p.tokens).length));
  for (const p of model.providers) {
    const segs: Seg[] = [[`${pad(p.provider, 8)}  ${pad(tokens(p.tokens), tw, "right")}  `]];
    const g = p.budget;
    if (g) segs.push([bar(g.fraction, BAR), TONE_CODE[riskTone(g.fraction)]], [` ${percent(g.fraction).padStart(4)}  ${gaugeText(g, false)}`]);
    else segs.push(["no global budget", SGR.gray]);
    out.push(compose(segs, screen.width, paint));
  }
  return out;
}

function actions(model: DashboardModel, screen: Screen, paint: Paint): string[] {
  if (model.actions.length === 0) return [];
  const lw = Math.max(...model.actions.map((a) => Math.min(16, (a.label || a.runId).length)));
  const out = [paint(fit("RECENT ACTIONS", screen.width), SGR.bold)];
  for (const a of model.actions) out.push(compose([[`${clock(a.at)}  `], [pad(a.label || a.runId, lw), SGR.bold], [`  ${pad(a.kind, 7)}  ${why(a)}`]], screen.width, paint));
  return out;
}

/** "by user", "by budget, 111 of 100 claude tokens, run budget (--budget)", "by startup: …". */
function why(a: RecentAction): string {
  if (a.trigger === "budget" && a.used !== undefined && a.limit !== undefined) {
    return `by budget, ${thousands(a.used)} of ${thousands(a.limit)}${a.provider ? ` ${a.provider}` : ""} tokens${a.scope ? `, ${a.scope}` : ""}`;
  }
  const detail = a.detail && a.detail !== `${a.kind} by ${a.trigger}` ? `: ${a.detail}` : "";
  return `by ${a.trigger}${detail}`;
}

const KEYS = "↑↓/Kj select  c cutoff  f freeze  k kill  r restore  l egress log  q quit";

function footer(view: ViewState, screen: Screen, paint: Paint): string[] {
  const status: Seg[] = view.confirm
    ? [[`kill ${view.confirm.label} (run ${view.confirm.runId}) now, without saving? y/N`, SGR.bold, SGR.red]]
    : view.message
      ? [[view.message.text, noteCode(view.message)]]
      : [[""]];
  return [compose(status, screen.width, paint), compose([[view.log ? "l/Esc back to the runs  q quit" : KEYS, SGR.dim]], screen.width, paint)];
}

/** The rows that fit in `room` lines, scrolled so the selected run is among them. */
function window(rows: string[], model: DashboardModel, selected: string | undefined, room: number): string[] {
  if (rows.length <= room) return rows;
  const at = Math.max(0, model.runs.findIndex((r) => r.runId === selected));
  const start = Math.min(Math.max(0, at - room + 1), rows.length - room);
  return rows.slice(start, start + Math.max(1, room));
}

export function renderFrame(model: DashboardModel, view: ViewState, screen: Screen, log?: readonly EgressAuditRow[]): string[] {
  const paint = painter(screen.color);
  const live = model.runs.filter((r) => r.status !== "ended").length;
  const title = compose([["bottle dashboard", SGR.bold], [` · ${model.runs.length} run${model.runs.length === 1 ? "" : "s"}, ${live} live · ${stamp(model.at)} ${model.timeZone}`]], screen.width, paint);
  const foot = screen.interactive ? ["", ...footer(view, screen, paint)] : [];
  if (view.log && screen.interactive) {
    const room = screen.height === undefined ? undefined : Math.max(1, screen.height - 2 - foot.length);
    return pinned([title, "", ...logLines(view.log, log ?? [], model.timeZone, screen.width, room, paint)], foot, screen);
  }
  if (model.runs.length === 0) {
    const empty = paint(fit("no runs on the ledger in the last hour: start one with `bottle run`", screen.width), SGR.gray);
    return pinned([title, "", empty, ...section(totals(model, screen, paint)), ...section(actions(model, screen, paint))], foot, screen);
  }
  const table = runTable(model, view, screen, paint);
  const selected = model.runs.find((r) => r.runId === view.selected);
  let parts = [
    screen.interactive && selected ? section(detail(selected, view.notes[selected.runId], screen, paint)) : [],
    section(totals(model, screen, paint)),
    section(actions(model, screen, paint)),
  ];
  if (screen.height !== undefined) {
    const fixed = 3 + foot.length; // title, blank, table head
    const need = (k: number) => fixed + parts.slice(0, k).flat().length + Math.min(table.rows.length, MIN_ROWS);
    for (let k = parts.length; k > 0 && need(k) > screen.height; k--) parts = parts.slice(0, k - 1);
    const room = screen.height - fixed - parts.flat().length;
    return pinned([title, "", table.head, ...window(table.rows, model, view.selected, room), ...parts.flat()], foot, screen);
  }
  return [title, "", table.head, ...table.rows, ...parts.flat(), ...foot];
}

const section = (lines: string[]) => (lines.length ? ["", ...lines] : []);

/** The body, then the footer on the last lines of the screen (the keys stay put as the body grows). */
function pinned(body: string[], foot: string[], screen: Screen): string[] {
  if (screen.height === undefined) return [...body, ...foot];
  const room = Math.max(0, screen.height - foot.length);
  const top = body.slice(0, room);
  return [...top, ...Array<string>(room - top.length).fill(""), ...foot].slice(0, screen.height);
}
