/**
 * Window boundaries: a second either side of midnight in UTC and in configured zones (including daylight
 * saving days and a zone whose midnight is skipped), week starts on Monday, month and year rollover; a
 * window changed while usage exists, with and without a reset marker; window bounds written in the zone.
 */
import { describe, expect, test } from "bun:test";
import { selectionFor } from "../../src/budget/counting.ts";
import type { EffectiveBudget } from "../../src/budget/precedence.ts";
import { windowAt } from "../../src/budget/windows.ts";
import { instantOfWall, isoInZone, isValidTimeZone, offsetAt } from "../../src/budget/zoned-time.ts";
import type { BudgetWindow } from "../../src/manifest/types.ts";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const at = (s: string) => Date.parse(s);

describe("day windows", () => {
  test("UTC: one second before and after midnight fall in different days", () => {
    const before = windowAt(at("2026-03-14T23:59:59Z"), "day");
    const after = windowAt(at("2026-03-15T00:00:01Z"), "day");
    expect(iso(before.start)).toBe("2026-03-14T00:00:00.000Z");
    expect(iso(before.end)).toBe("2026-03-15T00:00:00.000Z");
    expect(iso(after.start)).toBe("2026-03-15T00:00:00.000Z");
    expect(windowAt(at("2026-03-15T00:00:00Z"), "day").start).toBe(at("2026-03-15T00:00:00Z"));
  });

  test("Europe/Berlin (UTC+1 in winter): local midnight is 23:00 UTC", () => {
    const tz = "Europe/Berlin";
    expect(iso(windowAt(at("2026-01-10T22:59:59Z"), "day", tz).start)).toBe("2026-01-09T23:00:00.000Z");
    expect(iso(windowAt(at("2026-01-10T23:00:01Z"), "day", tz).start)).toBe("2026-01-10T23:00:00.000Z");
  });

  test("America/New_York across spring-forward: the day is 23 hours long", () => {
    const w = windowAt(at("2026-03-08T12:00:00Z"), "day", "America/New_York");
    expect(iso(w.start)).toBe("2026-03-08T05:00:00.000Z");
    expect(iso(w.end)).toBe("2026-03-09T04:00:00.000Z");
    expect(w.end! - w.start).toBe(23 * 3600_000);
  });

  test("America/New_York across fall-back: the day is 25 hours long", () => {
    const w = windowAt(at("2026-11-01T12:00:00Z"), "day", "America/New_York");
    expect(w.end! - w.start).toBe(25 * 3600_000);
  });

  test("America/Santiago skips midnight on spring-forward day: the window starts when clocks jump", () => {
    // 2026-09-06 00:00 -04 does not exist; clocks go to 01:00 -03, which is 04:00 UTC.
    const tz = "America/Santiago";
    const start = instantOfWall({ year: 2026, month: 9, day: 6, hour: 0, minute: 0, second: 0 }, tz);
    expect(iso(start)).toBe("2026-09-06T04:00:00.000Z");
    expect(iso(windowAt(at("2026-09-06T03:59:59Z"), "day", tz).end)).toBe("2026-09-06T04:00:00.000Z");
    expect(iso(windowAt(at("2026-09-06T04:00:01Z"), "day", tz).start)).toBe("2026-09-06T04:00:00.000Z");
  });

  test("Asia/Kolkata (+05:30): half-hour offsets", () => {
    expect(iso(windowAt(at("2026-05-01T18:29:59Z"), "day", "Asia/Kolkata").start)).toBe("2026-04-30T18:30:00.000Z");
    expect(iso(windowAt(at("2026-05-01T18:30:01Z"), "day", "Asia/Kolkata").start)).toBe("2026-05-01T18:30:00.000Z");
  });
});

describe("week and month windows", () => {
  test("weeks start on Monday 00:00", () => {
    // 2026-11-22 is a Sunday, 2026-11-23 a Monday.
    expect(iso(windowAt(at("2026-11-22T23:59:59Z"), "week").start)).toBe("2026-11-16T00:00:00.000Z");
    const w = windowAt(at("2026-11-23T00:00:01Z"), "week");
    expect(iso(w.start)).toBe("2026-11-23T00:00:00.000Z");
    expect(iso(w.end)).toBe("2026-11-30T00:00:00.000Z");
  });

  test("month rollover, including December into January", () => {
    expect(iso(windowAt(at("2026-01-31T23:59:59Z"), "month").start)).toBe("2026-01-01T00:00:00.000Z");
    expect(iso(windowAt(at("2026-02-01T00:00:01Z"), "month").start)).toBe("2026-02-01T00:00:00.000Z");
    const dec = windowAt(at("2026-12-31T23:59:59Z"), "month");
    expect(iso(dec.end)).toBe("2027-01-01T00:00:00.000Z");
    expect(iso(windowAt(at("2027-01-01T00:00:00Z"), "month").start)).toBe("2027-01-01T00:00:00.000Z");
  });

  test("month in a zone: Tokyo's month begins at 15:00 UTC the day before", () => {
    expect(iso(windowAt(at("2026-06-30T14:59:59Z"), "month", "Asia/Tokyo").start)).toBe("2026-05-31T15:00:00.000Z");
    expect(iso(windowAt(at("2026-06-30T15:00:01Z"), "month", "Asia/Tokyo").start)).toBe("2026-06-30T15:00:00.000Z");
  });

  test("no window: everything since the epoch, never ends", () => {
    expect(windowAt(at("2026-06-30T14:59:59Z"), undefined)).toEqual({ start: 0 });
  });

  test("time zone names are checked", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(() => windowAt(0, "day", "Mars/Olympus")).toThrow(/unknown time zone/);
  });
});

describe("changing a window while usage exists", () => {
  // One history, counted under whatever window the budget has at the moment of asking.
  const events = [
    { at: at("2026-10-20T10:00:00Z"), tokens: 1 }, // last month
    { at: at("2026-11-16T10:00:00Z"), tokens: 10 }, // Monday of this week
    { at: at("2026-11-18T09:00:00Z"), tokens: 100 }, // today, before the reset
    { at: at("2026-11-18T11:00:00Z"), tokens: 1000 }, // today, after the reset
  ];
  const now = at("2026-11-18T12:00:00Z"); // a Wednesday
  const count = (per: BudgetWindow | undefined, reset?: number, tz = "UTC") => {
    const b: EffectiveBudget = { provider: "claude", tokens: 5000, scope: "global", ...(per ? { per } : {}) };
    const sel = selectionFor(b, "", now, tz, reset);
    return events.filter((e) => e.at >= sel.since && (sel.windowEnd === undefined || e.at < sel.windowEnd)).reduce((n, e) => n + e.tokens, 0);
  };

  test("day → week → month → none recounts the same history, nothing is lost or doubled", () => {
    expect(count("day")).toBe(1100);
    expect(count("week")).toBe(1110);
    expect(count("month")).toBe(1110);
    expect(count(undefined)).toBe(1111);
    expect(count("day")).toBe(1100); // and back
  });

  test("a reset marker in the middle of the window holds whichever window is set", () => {
    const reset = at("2026-11-18T10:00:00Z");
    expect(count("day", reset)).toBe(1000);
    expect(count("week", reset)).toBe(1000);
    expect(count(undefined, reset)).toBe(1000);
  });

  test("a reset from an earlier window stops mattering once the window has moved past it", () => {
    expect(count("day", at("2026-11-17T10:00:00Z"))).toBe(1100);
    expect(count("week", at("2026-11-17T10:00:00Z"))).toBe(1100);
  });

  test("moving the time zone moves the day: Tokyo's day started at 15:00 UTC yesterday", () => {
    expect(count("day", undefined, "Asia/Tokyo")).toBe(1100);
    expect(count("day", undefined, "America/Los_Angeles")).toBe(1100);
    expect(count("day", undefined, "Pacific/Kiritimati")).toBe(1000); // UTC+14: its day began at 10:00 UTC
  });
});

describe("window bounds written in the configured zone", () => {
  test("ISO 8601 with the zone's offset at that instant; UTC is Z", () => {
    const w = windowAt(at("2026-01-10T12:00:00Z"), "day", "Europe/Berlin");
    expect(isoInZone(w.start, "Europe/Berlin")).toBe("2026-01-10T00:00:00+01:00");
    expect(isoInZone(w.end!, "Europe/Berlin")).toBe("2026-01-11T00:00:00+01:00");
    expect(isoInZone(at("2026-07-10T12:00:00Z"), "Europe/Berlin")).toBe("2026-07-10T14:00:00+02:00");
    expect(isoInZone(at("2026-05-01T18:30:00Z"), "Asia/Kolkata")).toBe("2026-05-02T00:00:00+05:30");
    expect(isoInZone(at("2026-11-18T12:00:00Z"), "America/New_York")).toBe("2026-11-18T07:00:00-05:00");
    expect(isoInZone(at("2026-11-18T12:00:00Z"), "UTC")).toBe("2026-11-18T12:00:00Z");
    expect(Date.parse(isoInZone(w.start, "Europe/Berlin"))).toBe(w.start);
  });
});

/**
 * Windows over real tz data where clocks change at or across local midnight. Windows tile time: every
 * instant is in exactly one window, every instant inside a window maps to that window's start, a window
 * ends where the next begins, and a window starts at the first instant of its local day (when clocks jump
 * over midnight, at the jump; when midnight repeats, at its first occurrence).
 */
describe("windows where clocks change at midnight", () => {
  const H = 3_600_000;
  /** Wall date in the zone as a sortable number (20091101). */
  const dateKey = (ms: number, tz: string) => Number(isoInZone(ms, tz).slice(0, 10).replaceAll("-", ""));
  // [zone, an instant near the change, what happens there]
  const CHANGES: [string, string, string][] = [
    ["America/St_Johns", "2009-11-01T02:31:00Z", "00:01 NDT back to 23:01 NST on Oct 31: Nov 1 starts, then the wall reads Oct 31 again for an hour"],
    ["America/St_Johns", "2010-11-07T02:31:00Z", "the same on a Sunday that is not the 1st"],
    ["America/Goose_Bay", "2010-11-07T03:31:00Z", "00:01 ADT back to 23:01 AST"],
    ["America/St_Johns", "2010-03-14T03:31:00Z", "spring forward at 00:01: 00:01 jumps to 01:01"],
    ["Asia/Beirut", "2026-10-24T21:00:00Z", "00:00 back to 23:00: Saturday's last hour repeats, Sunday starts after it"],
    ["Asia/Beirut", "2026-03-28T22:00:00Z", "00:00 jumps to 01:00: Sunday starts at the jump"],
    ["America/Havana", "2026-11-01T05:00:00Z", "01:00 back to 00:00: midnight repeats, Sunday starts at the first"],
    ["America/Havana", "2026-03-08T05:00:00Z", "00:00 jumps to 01:00"],
    ["America/Santiago", "2026-09-06T04:00:00Z", "24:00 jumps to 01:00: midnight is skipped"],
    ["America/Santiago", "2026-04-05T03:00:00Z", "24:00 back to 23:00: Saturday's last hour repeats"],
    ["America/Asuncion", "2023-10-01T04:00:00Z", "00:00 jumps to 01:00 (Paraguay until 2024)"],
    ["America/Asuncion", "2024-03-24T03:00:00Z", "00:00 back to 23:00"],
    ["Pacific/Apia", "2011-12-30T10:00:00Z", "a whole day (Dec 30) skipped"],
  ];
  const PERS: BudgetWindow[] = ["day", "week", "month"];

  for (const [tz, near, what] of CHANGES) {
    test(`${tz} ${near.slice(0, 10)}: ${what}`, () => {
      const around = Date.parse(near);
      // The span really holds a change of the zone's offset in the runtime's tz data.
      expect(offsetAt(around - 30 * H, tz)).not.toBe(offsetAt(around + 30 * H, tz));
      for (const per of PERS) {
        let prev: { start: number; end?: number } | undefined;
        for (let t = around - 30 * H; t <= around + 30 * H; t += 60_000) {
          const w = windowAt(t, per, tz);
          // The window holds the instant, and windows tile time: a new one begins exactly where the last ended.
          expect(w.start <= t && t < w.end!).toBe(true);
          if (prev && w.start !== prev.start) expect(w.start).toBe(prev.end!);
          // Every instant of the window maps to the same window, its first and its last among them.
          if (!prev || w.start !== prev.start) {
            expect(windowAt(w.start, per, tz)).toEqual(w);
            expect(windowAt(w.end! - 1, per, tz)).toEqual(w);
            // It starts at the first instant of a local day: the instant before reads an earlier date.
            expect(dateKey(w.start - 1000, tz)).toBeLessThan(dateKey(w.start, tz));
            expect(dateKey(w.end! - 1000, tz)).toBeLessThan(dateKey(w.end!, tz));
          }
          // A day window is the day the wall clock shows, or (in an hour that repeats after midnight) the
          // day that has already begun; its last instant reads its own date.
          if (per === "day") {
            expect(dateKey(t, tz)).toBeLessThanOrEqual(dateKey(w.start, tz));
            expect(dateKey(w.end! - 1000, tz)).toBe(dateKey(w.start, tz));
          }
          prev = w;
        }
      }
    });
  }

  test("St John's, 1 Nov 2009: the hour that reads Oct 31 again after Nov 1 began counts in November", () => {
    const tz = "America/St_Johns";
    // 02:30Z is 00:00 NDT on Nov 1; at 02:31Z clocks went back to 23:01 NST on Oct 31.
    const repeated = at("2009-11-01T03:00:00Z");
    expect(isoInZone(repeated, tz)).toBe("2009-10-31T23:30:00-03:30");
    expect(iso(windowAt(repeated, "day", tz).start)).toBe("2009-11-01T02:30:00.000Z");
    expect(iso(windowAt(repeated, "day", tz).end)).toBe("2009-11-02T03:30:00.000Z");
    expect(iso(windowAt(repeated, "month", tz).start)).toBe("2009-11-01T02:30:00.000Z");
    expect(iso(windowAt(at("2009-11-01T02:29:59Z"), "month", tz).end)).toBe("2009-11-01T02:30:00.000Z");
  });

  test("Beirut, 25 Oct 2026: Saturday's repeated last hour is Saturday's; Sunday begins at 22:00Z", () => {
    const tz = "Asia/Beirut";
    expect(isoInZone(at("2026-10-24T21:30:00Z"), tz)).toBe("2026-10-24T23:30:00+02:00");
    const sat = windowAt(at("2026-10-24T21:30:00Z"), "day", tz);
    expect(iso(sat.start)).toBe("2026-10-23T21:00:00.000Z");
    expect(iso(sat.end)).toBe("2026-10-24T22:00:00.000Z");
    expect(sat.end! - sat.start).toBe(25 * H);
  });

  test("Havana, 1 Nov 2026: midnight happens twice; Sunday starts at the first", () => {
    const tz = "America/Havana";
    expect(isoInZone(at("2026-11-01T05:30:00Z"), tz)).toBe("2026-11-01T00:30:00-05:00");
    expect(iso(windowAt(at("2026-11-01T05:30:00Z"), "day", tz).start)).toBe("2026-11-01T04:00:00.000Z");
    expect(iso(windowAt(at("2026-11-01T05:30:00Z"), "month", tz).start)).toBe("2026-11-01T04:00:00.000Z");
  });
});
