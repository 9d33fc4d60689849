/**
 * `bottle dashboard`: a live, host-level view of every run's usage against its budget, with keys to cut off,
 * freeze, kill or restore a run. Everything on screen is read from the ledger; every key that acts writes a
 * command to the ledger, and the process that owns the run carries it out (src/enforce/command-poller.ts).
 * `--once` prints one frame, `--json` the data behind it; without either it needs a terminal.
 */
import { constants } from "node:os";
import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { readDashboard } from "../../dashboard/model.ts";
import { recordPath } from "../../provenance/store.ts";
import { UsageError } from "../../errors.ts";
import { readRequestFile } from "../../launch/request-file.ts";
import { recentAudit, type RunInfo } from "../../ledger/index.ts";
import { log } from "../../log.ts";
import { loadCatalog } from "../../manifest/index.ts";
import { runLayers } from "../../runs/budget-view.ts";
import { controlLiveRun } from "../../runs/control.ts";
import { colorWanted } from "../dashboard/ansi.ts";
import { LOG_RECORDS } from "../dashboard/log-view.ts";
import { renderFrame } from "../dashboard/render.ts";
import { runTui } from "../dashboard/tui.ts";
import { printJson, withLedger } from "../ledger-session.ts";

export default defineCommand({
  meta: { name: "dashboard", description: "Live view of every run's usage against its budget; keys cut off, freeze, kill or restore a run." },
  args: {
    once: { type: "boolean", description: "Print one frame and exit (no alternate screen, no keys)." },
    json: { type: "boolean", description: "Print the data behind the frame once, as JSON: {at, timeZone, runs, hosts, providers, actions}." },
  },
  run({ args }) {
    const live = !args.once && !args.json;
    if (live && !(process.stdin.isTTY && process.stdout.isTTY)) {
      throw new UsageError("`bottle dashboard` needs a terminal, and its input or output is not one", {
        fix: "run it in a terminal, or use `bottle dashboard --once` for one frame or `--json` for the data",
      });
    }
    return withLedger(async ({ home, settings, db }) => {
      // The manifests as they are when the dashboard starts: they say which budget governs each run.
      const catalog = loadCatalog({ home, cwd: process.cwd() });
      for (const w of catalog.warnings) log.warn(w);
      // A run's `--budget` is in its launch.json, which changes only when a frozen run is resumed (maybe with
      // a new --budget): read it once per run and state.
      const flags = new Map<string, number | undefined>();
      const runBudget = (run: RunInfo) => {
        const key = `${run.id} ${run.state}`;
        return flags.has(key) ? flags.get(key) : flags.set(key, readRequestFile(run.id, home)?.budget).get(key);
      };
      const layersOf = (run: RunInfo) => runLayers(catalog, settings, run, runBudget(run));
      const recordOf = (runId: string) => {
        const p = recordPath(home, runId);
        return existsSync(p) ? p : undefined;
      };
      const read = () => readDashboard(db, { timeZone: settings.timezone, settings, layersOf, recordOf });
      if (args.json) return printJson(await read());
      const color = colorWanted(process.env, !!process.stdout.isTTY);
      if (args.once) {
        const width = process.stdout.columns || Number(process.env.COLUMNS) || 100;
        process.stdout.write(`${renderFrame(await read(), { notes: {} }, { width, color, interactive: false }).join("\n")}\n`);
        return;
      }
      const exit = await runTui({
        read,
        readLog: (runId) => recentAudit(db, runId, LOG_RECORDS),
        send: (runId, command) => controlLiveRun(db, runId, command),
        input: process.stdin,
        output: process.stdout,
        color,
      });
      return exit === "quit" ? 0 : 128 + (constants.signals[exit] ?? 0);
    });
  },
});
