/**
 * `--since` / `--until` for usage reports: an ISO date (`2026-11-20`, the start of that day in the
 * budget time zone; as `--until` the whole day is included), an ISO date-time (`2026-11-20T08:00:00Z`), or
 * a span back from now (`30m`, `12h`, `7d`, `2w`). Pure: the clock and the zone come in as arguments.
 */
import { UsageError } from "../errors.ts";
import { instantOfWall } from "./zoned-time.ts";

const SPAN_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export function parseWhen(text: string, flag: "--since" | "--until", now: number, timeZone = "UTC"): number {
  const t = text.trim();
  const span = /^(\d+)\s*([mhdw])$/i.exec(t);
  if (span) return now - Number(span[1]) * SPAN_MS[span[2]!.toLowerCase()]!;
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const check = new Date(Date.UTC(year, month - 1, day));
    if (check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day) {
      // --until DATE includes that day: the bound is the next day's start.
      const d = flag === "--until" ? new Date(Date.UTC(year, month - 1, day + 1)) : check;
      return instantOfWall({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0, second: 0 }, timeZone);
    }
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`${flag} ${text} is not a date, a date-time or a span`, {
    key: flag,
    fix: `use an ISO date (2026-11-20), an ISO date-time (2026-11-20T08:00:00Z) or a span back from now (30m, 12h, 7d, 2w)`,
  });
}
