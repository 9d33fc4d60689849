/**
 * Wall-clock arithmetic in an IANA time zone with nothing but Intl. Budget windows start at local midnight,
 * and local midnight is not a fixed UTC offset: it moves with daylight saving, and in a few zones (e.g.
 * America/Santiago) midnight itself is skipped on the day clocks spring forward. These helpers convert
 * between instants (ms since epoch) and wall-clock fields, picking the earliest instant at or after a wall
 * time when that wall time falls in a gap or an overlap.
 */
import { BudgetError } from "../errors.ts";

export interface WallClock {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new BudgetError(`unknown time zone "${timeZone}"`, {
        key: "timezone",
        fix: "use an IANA zone name such as UTC, Europe/Berlin or America/New_York.",
      });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows this IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at instant `ms`. */
export function wallClockAt(ms: number, timeZone: string): WallClock {
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

/** Wall-clock fields read as if they were UTC: a monotonic number for comparing wall times. */
export function wallAsUtc(w: WallClock): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (local = utc + offset). */
export function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallAsUtc(wallClockAt(whole, timeZone)) - whole;
}

/**
 * The earliest instant whose wall clock in `timeZone` is at or after `wall`. For an ordinary wall time that is
 * the instant it names; in a spring-forward gap it is the moment clocks jump; in a fall-back overlap it is the
 * first occurrence.
 */
export function instantOfWall(wall: WallClock, timeZone: string): number {
  const target = wallAsUtc(wall);
  const day = 86_400_000;
  const offsets = new Set([offsetAt(target - day, timeZone), offsetAt(target, timeZone), offsetAt(target + day, timeZone)]);
  let best = Number.POSITIVE_INFINITY;
  for (const o of offsets) {
    const t = target - o;
    if (t < best && t + offsetAt(t, timeZone) >= target) best = t;
  }
  if (best === Number.POSITIVE_INFINITY) best = target - offsetAt(target, timeZone);
  return best;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Instant `ms` as ISO 8601 with the zone's offset at that instant: "2026-11-18T00:00:00+01:00". */
export function isoInZone(ms: number, timeZone: string): string {
  const w = wallClockAt(ms, timeZone);
  const off = Math.round(offsetAt(ms, timeZone) / 60_000);
  const sign = off < 0 ? "-" : "+";
  const abs = Math.abs(off);
  const zone = timeZone === "UTC" ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${zone}`;
}

/** Instant `ms` as the zone's wall clock for people: "2026-11-18 00:00". */
export function wallText(ms: number, timeZone: string): string {
  const w = wallClockAt(ms, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}
