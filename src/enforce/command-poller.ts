/**
 * The run side of the control transport. `bottle budget cutoff|restore` and the dashboard never touch a
 * run directly: they write a command to the ledger, and the process that owns the run polls for its
 * commands (every 250 ms, so it acts within a second), carries each out through enforcement and marks it
 * done with the outcome. A poll runs when the ledger file changes (the queue watches it) and first asks
 * whether anything was committed since the last one (PRAGMA data_version, no table read), so an idle run
 * costs next to nothing and a command is carried out within milliseconds. The same seam works across
 * hosts when the ledger is shared (there, the periodic poll is what finds another host's commands).
 */
import { log } from "../log.ts";
import { applyCommand, type ControlCommand } from "./cutoff.ts";
import type { RunControl } from "./run-control.ts";
import type { CommandQueue, EnforceStore } from "./store.ts";

const KNOWN = new Set<ControlCommand>(["cutoff", "restore", "freeze", "kill", "stop"]);

/** Carries out every pending command of `runId` once; returns how many were handled. */
export async function pollOnce(store: EnforceStore, queue: CommandQueue, runId: string, control?: RunControl): Promise<number> {
  // Nothing committed since the last poll (PRAGMA data_version): no command can be waiting.
  if (queue.changed && !(await queue.changed())) return 0;
  const rows = await queue.pending(runId);
  for (const row of rows) {
    let result: string;
    if (!KNOWN.has(row.command as ControlCommand)) result = `error: unknown command "${row.command}"`;
    else {
      try {
        const done = await applyCommand(store, control, runId, row.command as ControlCommand);
        result = done ? "done" : "no change";
      } catch (e) {
        result = `error: ${String(e)}`;
      }
    }
    await queue.complete(row.id, Date.now(), result);
  }
  return rows.length;
}

/** How often a run whose ledger can be watched still polls, in case a change event was missed. */
export const WATCHED_POLL_MS = 10_000;
/** The least time between two polls set off by change events (a busy ledger changes constantly). */
const MIN_GAP_MS = 50;
/**
 * Polls after the last change event, this long after it. The event comes from the commit's write to the
 * WAL, and the commit becomes visible a moment later (when the writer updates the WAL index, which writes
 * no file): a poll set off at once can read the old data_version, and no further event follows. These
 * polls read the commit once it is visible, however the writer was delayed, without waiting for the
 * WATCHED_POLL_MS fallback (seen: a `stop` not carried out within its 10 s on a loaded machine).
 */
export const SETTLE_MS = [100, 500, 2_000];

/**
 * Polls until the returned stop function is called. Where the queue can watch the ledger for commits
 * (the WAL file changes), a poll runs when it changes and otherwise only every WATCHED_POLL_MS, so an
 * idle run wakes up almost never; elsewhere every `intervalMs`. Stopping waits for a poll in flight, so a
 * command the run is carrying out (a `stop` that tears the bottle down, say) is still marked done before
 * the owner closes the ledger and exits.
 */
export function startCommandPoller(store: EnforceStore, queue: CommandQueue, runId: string, control?: RunControl, intervalMs = 250): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let lastPoll = 0;
  let delayed: ReturnType<typeof setTimeout> | undefined;
  const poll = (): void => {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    lastPoll = Date.now();
    inFlight = pollOnce(store, queue, runId, control)
      .then(() => undefined)
      .catch((e) => log.error(`command poll for run ${runId} failed: ${String(e)}`))
      .finally(() => {
        inFlight = undefined;
        if (again) {
          again = false;
          soon();
        }
      });
  };
  const soon = (): void => {
    if (delayed || stopped) return;
    const wait = Math.max(0, lastPoll + MIN_GAP_MS - Date.now());
    delayed = setTimeout(() => {
      delayed = undefined;
      poll();
    }, wait);
    delayed.unref?.();
  };
  // The settle polls after a burst of change events: one timer at a time, started again from the first
  // step when events arrived while it ran, so an idle run has no timer at all.
  let settle: ReturnType<typeof setTimeout> | undefined;
  let settleStep = 0;
  let eventSince = false;
  const armSettle = (): void => {
    settle = setTimeout(() => {
      settle = undefined;
      if (stopped) return;
      poll();
      if (eventSince) {
        eventSince = false;
        settleStep = 0;
      } else settleStep++;
      if (settleStep < SETTLE_MS.length) armSettle();
    }, SETTLE_MS[settleStep]);
    settle.unref?.();
  };
  const onChange = (): void => {
    soon();
    if (stopped) return;
    if (settle) {
      eventSince = true;
      return;
    }
    settleStep = 0;
    armSettle();
  };
  const unwatch = queue.watch?.(onChange);
  const timer = setInterval(poll, unwatch ? Math.max(intervalMs, WATCHED_POLL_MS) : intervalMs);
  timer.unref?.();
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (delayed) clearTimeout(delayed);
    if (settle) clearTimeout(settle);
    unwatch?.();
    await inFlight;
  };
}
