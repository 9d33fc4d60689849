/**
 * Budget windows. A `per: day|week|month` budget counts usage from the start of the current calendar period
 * to its end, in UTC or in the `timezone:` from settings.yml. Periods are aligned to local midnight: a day
 * starts at 00:00, a week at 00:00 on Monday (ISO 8601 weeks), a month at 00:00 on the 1st. A day that
 * loses or gains an hour to daylight saving is simply 23 or 25 hours long. Where midnight falls in a gap
 * the day starts when clocks jump; where it repeats, at its first occurrence, and a wall-clock hour that
 * repeats after a day has started (clocks set back across midnight) belongs to the day that started. A
 * budget without `per` has one window that never ends.
 */
import type { BudgetWindow } from "../manifest/types.ts";
import { instantOfWall, wallClockAt } from "./zoned-time.ts";

export interface WindowBounds {
  /** First instant counted (ms since epoch); 0 for a budget without a window. */
  start: number;
  /** First instant of the next window; undefined for a budget without a window. */
  end?: number;
}

interface Ymd {
  year: number;
  month: number;
  day: number;
}

function midnight(d: Ymd, timeZone: string): number {
  return instantOfWall({ ...d, hour: 0, minute: 0, second: 0 }, timeZone);
}

/** Calendar arithmetic on dates only, done in UTC where it is exact. */
function addDays(d: Ymd, n: number): Ymd {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

function periodStartDate(today: Ymd, per: BudgetWindow): Ymd {
  switch (per) {
    case "day":
      return today;
    case "week": {
      // getUTCDay: 0 = Sunday … 6 = Saturday; Monday-based offset.
      const dow = new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay();
      return addDays(today, -((dow + 6) % 7));
    }
    case "month":
      return { year: today.year, month: today.month, day: 1 };
  }
}

function nextPeriodStartDate(start: Ymd, per: BudgetWindow): Ymd {
  switch (per) {
    case "day":
      return addDays(start, 1);
    case "week":
      return addDays(start, 7);
    case "month":
      return start.month === 12 ? { year: start.year + 1, month: 1, day: 1 } : { year: start.year, month: start.month + 1, day: 1 };
  }
}

/**
 * The window containing instant `now` for a budget with window `per` in `timeZone`. Windows tile time:
 * each runs from the first instant of its period's first local day to the first instant of the next
 * period's, so every instant is in exactly one window and `start <= now < end` always holds.
 */
export function windowAt(now: number, per: BudgetWindow | undefined, timeZone = "UTC"): WindowBounds {
  if (!per) return { start: 0 };
  const wall = wallClockAt(now, timeZone);
  let startDate = periodStartDate(wall, per);
  let start = midnight(startDate, timeZone);
  let end = midnight(nextPeriodStartDate(startDate, per), timeZone);
  // In a zone whose midnight is skipped, `now` can sit just before the jump while its wall date already
  // reads as the new day; step back one period.
  if (now < start) {
    end = start;
    start = midnight(periodStartDate(addDays(startDate, -1), per), timeZone);
  }
  // Where clocks fall back across midnight (America/Goose_Bay and America/St_Johns went from 00:01 back to
  // 23:01 until 2011), the new day has begun and the wall clock then reads the old date again for an hour.
  // That hour belongs to the new day, whose window has begun: a day, once it has started, stays started.
  while (now >= end) {
    startDate = nextPeriodStartDate(startDate, per);
    start = end;
    end = midnight(nextPeriodStartDate(startDate, per), timeZone);
  }
  return { start, end };
}

/** Human form of a window for messages and `bottle budget show`: "per day (Europe/Berlin)". */
export function describeWindow(per: BudgetWindow | undefined, timeZone = "UTC"): string {
  if (!per) return "no window";
  return timeZone === "UTC" ? `per ${per} (UTC)` : `per ${per} (${timeZone})`;
}
