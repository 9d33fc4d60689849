/**
 * A budget's window, computed once per window instead of on every request. `windowAt` converts wall-clock
 * time in the budget's zone with Intl (about nine `formatToParts` calls per window), and admission and the
 * crossing check need the window of every budget on every request: in a CPU profile of `bottle proxy`
 * under load that was a tenth of the process's samples. A window is the same for every instant inside it,
 * so the last one computed per (window kind, zone) is reused while `now` is inside it. windowAt's windows
 * tile time (each holds the instant it was computed for, and begins where the previous one ended, even
 * where clocks fall back across midnight), so the memo and windowAt agree at every instant. Pure memo.
 */
import { windowAt, type WindowBounds } from "../budget/windows.ts";
import type { BudgetWindow } from "../manifest/types.ts";

const last = new Map<string, WindowBounds>();

/** windowAt(now, per, timeZone), reusing the last window of this kind and zone while `now` is inside it. */
export function windowOf(now: number, per: BudgetWindow | undefined, timeZone = "UTC"): WindowBounds {
  if (!per) return { start: 0 };
  const key = `${per}\u0000${timeZone}`;
  const hit = last.get(key);
  if (hit && hit.start <= now && hit.end !== undefined && now < hit.end) return hit;
  const w = windowAt(now, per, timeZone);
  last.set(key, w);
  return w;
}
