import { describe, expect, test } from "bun:test";
import { parseWhen } from "../../src/budget/time-range.ts";
import { UsageError } from "../../src/errors.ts";

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

describe("--since / --until", () => {
  test("spans count back from now", () => {
    expect(parseWhen("30m", "--since", NOW)).toBe(NOW - 30 * 60_000);
    expect(parseWhen("12h", "--since", NOW)).toBe(NOW - 12 * 3_600_000);
    expect(parseWhen("7d", "--since", NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseWhen("2W", "--since", NOW)).toBe(NOW - 14 * 86_400_000);
  });

  test("a date is midnight in the zone; as --until the whole day is included", () => {
    expect(parseWhen("2026-11-20", "--since", NOW)).toBe(Date.UTC(2026, 10, 20));
    expect(parseWhen("2026-11-20", "--until", NOW)).toBe(Date.UTC(2026, 10, 21));
    expect(parseWhen("2026-12-31", "--until", NOW)).toBe(Date.UTC(2027, 0, 1));
    // Berlin is UTC+1 in November: its midnight is 23:00 UTC the day before.
    expect(parseWhen("2026-11-20", "--since", NOW, "Europe/Berlin")).toBe(Date.UTC(2026, 10, 19, 23));
  });

  test("an ISO date-time is that instant", () => {
    expect(parseWhen("2026-11-20T08:15:00Z", "--until", NOW)).toBe(Date.UTC(2026, 10, 20, 8, 15));
    expect(parseWhen("2026-11-20T08:15:00+02:00", "--since", NOW)).toBe(Date.UTC(2026, 10, 20, 6, 15));
  });

  test("anything else is a usage error naming the flag", () => {
    for (const bad of ["yesterday", "2026-02-30", "7 days", "", "2026-11-20T99:00:00Z"]) {
      const e = (() => {
        try {
          parseWhen(bad, "--until", NOW);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).context.key).toBe("--until");
    }
  });
});
