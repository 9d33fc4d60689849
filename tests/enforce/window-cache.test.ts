/**
 * Admission's window memo (src/enforce/window-cache.ts) must give the window `windowAt` gives for every
 * instant, including across midnights, week and month rollovers and daylight-saving days (a zone whose
 * midnight is skipped, and one whose clocks went back across midnight); it is only worth having if it
 * actually reuses a window inside it.
 */
import { describe, expect, test } from "bun:test";
import { windowAt } from "../../src/budget/windows.ts";
import { windowOf } from "../../src/enforce/window-cache.ts";
import type { BudgetWindow } from "../../src/manifest/types.ts";

const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Santiago", "Asia/Beirut", "Australia/Lord_Howe", "America/Havana", "America/St_Johns"];
const PERS: BudgetWindow[] = ["day", "week", "month"];
// Spans with daylight-saving changes in both hemispheres (Santiago skips midnight in September).
const SPANS: [string, string][] = [
  ["2026-03-01T00:00:00Z", "2026-04-15T00:00:00Z"],
  ["2026-08-25T00:00:00Z", "2026-11-10T00:00:00Z"],
  ["2026-12-20T00:00:00Z", "2027-01-10T00:00:00Z"],
  // St John's set clocks back from 00:01 to 23:01 on 1 Nov 2009: November began, then the wall read Oct 31 again.
  ["2009-10-25T00:00:00Z", "2009-11-05T00:00:00Z"],
];
const STEP = 53 * 60_000 + 17_000;

describe("windowOf", () => {
  test("equals windowAt at every instant walked forward across window boundaries, in every zone and window kind", () => {
    let compared = 0;
    let boundaries = 0;
    for (const tz of ZONES)
      for (const per of PERS)
        for (const [from, to] of SPANS) {
          let prevStart: number | undefined;
          for (let t = Date.parse(from); t < Date.parse(to); t += STEP) {
            const want = windowAt(t, per, tz);
            const got = windowOf(t, per, tz);
            expect(want.start <= t && t < want.end!).toBe(true);
            expect(got).toEqual(want);
            compared++;
            if (prevStart !== undefined && got.start !== prevStart) boundaries++;
            prevStart = got.start;
          }
        }
    expect(compared).toBeGreaterThan(10_000);
    expect(boundaries).toBeGreaterThan(500);
  });

  test("equals windowAt when time goes backwards (a request dated before the last one)", () => {
    const tz = "Europe/Berlin";
    for (const per of PERS) {
      const later = Date.parse("2026-11-02T10:00:00Z");
      const earlier = Date.parse("2026-10-20T10:00:00Z");
      expect(windowOf(later, per, tz)).toEqual(windowAt(later, per, tz));
      expect(windowOf(earlier, per, tz)).toEqual(windowAt(earlier, per, tz));
      expect(windowOf(later, per, tz)).toEqual(windowAt(later, per, tz));
    }
  });

  test("reuses one window for every instant inside it, and keeps zones and window kinds apart", () => {
    const t = Date.parse("2026-11-29T12:00:00Z");
    const first = windowOf(t, "month", "UTC");
    expect(windowOf(t + 3_600_000, "month", "UTC")).toBe(first);
    expect(windowOf(t + 3_600_000, "day", "UTC")).not.toBe(first);
    expect(windowOf(t, "month", "Pacific/Kiritimati")).toEqual(windowAt(t, "month", "Pacific/Kiritimati"));
    expect(windowOf(t, "month", "Pacific/Kiritimati").start).not.toBe(first.start);
    expect(windowOf(t, undefined, "UTC")).toEqual({ start: 0 });
  });
});
