/**
 * The live dashboard: the alternate screen, redrawn from the ledger every half second and on every key,
 * with commands sent in the background so the screen never waits for a run to act. The terminal is given
 * back (raw mode off, cursor shown, the main screen restored) on every way out: q, Ctrl-C, SIGINT, SIGTERM,
 * SIGHUP, an error while reading the ledger or drawing, and as a last resort when the process exits.
 */
import { writeSync } from "node:fs";
import type { ControlOutcome } from "../../enforce/control.ts";
import type { ControlCommand } from "../../enforce/cutoff.ts";
import type { DashboardModel } from "../../dashboard/types.ts";
import type { EgressAuditRow } from "../../ledger/index.ts";
import { TERM } from "./ansi.ts";
import { decodeKeys, keepSelection, reduce, type Effect, type ViewState } from "./keys.ts";
import { renderFrame } from "./render.ts";

export interface TuiDeps {
  read(): Promise<DashboardModel>;
  readLog(runId: string): Promise<EgressAuditRow[]>;
  /** Sends a command to a live run and waits for its outcome; throws a BottleError when it cannot. */
  send(runId: string, command: ControlCommand): Promise<ControlOutcome>;
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  color: boolean;
  intervalMs?: number;
}

/** How the dashboard ended: a key, or a signal (the command turns that into 128 + its number). */
export type TuiExit = "quit" | NodeJS.Signals;

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const RESTORE = TERM.reset + TERM.showCursor + TERM.leaveAlt;

export function runTui(d: TuiDeps): Promise<TuiExit> {
  const { input, output } = d;
  let model: DashboardModel | undefined;
  let view: ViewState = { notes: {} };
  let log: EgressAuditRow[] = [];
  let reading = false;
  let done = false;

  const restoreSync = () => {
    try {
      writeSync((output as { fd?: number }).fd ?? 1, RESTORE);
    } catch {
      // the terminal is gone; nothing to give back
    }
  };

  return new Promise<TuiExit>((resolve, reject) => {
    const finish = (how: { exit: TuiExit } | { error: unknown }) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      input.off("data", onData);
      output.off("resize", draw);
      for (const s of SIGNALS) process.off(s, onSignal);
      process.off("exit", restoreSync);
      try {
        if (input.isTTY) input.setRawMode(false);
      } catch {
        // stdin already closed
      }
      input.pause();
      restoreSync();
      if ("error" in how) reject(how.error);
      else resolve(how.exit);
    };
    const guard =
      <A extends unknown[]>(f: (...a: A) => void) =>
      (...a: A) => {
        try {
          f(...a);
        } catch (e) {
          finish({ error: e });
        }
      };

    const draw = guard(() => {
      if (done || !model) return;
      const lines = renderFrame(model, view, { width: output.columns || 100, height: output.rows || 40, color: d.color, interactive: true }, log);
      output.write(TERM.home + lines.map((l) => l + TERM.clearLine).join("\r\n") + TERM.clearBelow);
    });

    const refresh = async () => {
      if (reading || done) return;
      reading = true;
      try {
        model = await d.read();
        view = { ...view };
        const selected = keepSelection(model.runs, view.selected);
        if (selected === undefined) delete view.selected;
        else view.selected = selected;
        log = view.log ? await d.readLog(view.log.runId) : [];
        draw();
      } catch (e) {
        finish({ error: e });
      } finally {
        reading = false;
      }
    };

    const send = (e: Extract<Effect, { type: "send" }>) => {
      view = { ...view, notes: { ...view.notes, [e.runId]: { text: `${e.command}: sending…`, tone: "busy" } } };
      const settle = (text: string, tone: "ok" | "error") => {
        view = { ...view, notes: { ...view.notes, [e.runId]: { text, tone } }, message: { text: `${e.label}: ${text}`, tone } };
        void refresh();
      };
      d.send(e.runId, e.command).then(
        (o) => settle(`${e.command}: ${o.result}`, o.result.startsWith("error") ? "error" : "ok"),
        (err: unknown) => settle(`${e.command} failed: ${err instanceof Error ? err.message : String(err)}`, "error"),
      );
    };

    const onData = guard((chunk: string | Buffer) => {
      for (const key of decodeKeys(String(chunk))) {
        const r = reduce(view, key, model?.runs ?? []);
        view = r.state;
        if (r.effect?.type === "quit") return finish({ exit: "quit" });
        if (r.effect?.type === "send") send(r.effect);
        if (key === "l" && view.log) void refresh();
      }
      draw();
    });
    const onSignal = (s: NodeJS.Signals) => finish({ exit: s });

    for (const s of SIGNALS) process.on(s, onSignal);
    process.on("exit", restoreSync);
    output.write(TERM.enterAlt + TERM.hideCursor + TERM.home + TERM.clearBelow);
    if (input.isTTY) input.setRawMode(true);
    input.setEncoding("utf8");
    input.on("data", onData);
    input.resume();
    output.on("resize", draw);
    const timer = setInterval(() => void refresh(), d.intervalMs ?? 500);
    void refresh();
  });
}
