/**
 * settings.yml: a missing file means the defaults and says so; a valid file is read in full; an invalid one
 * is a SettingsError from loadSettings itself — never a silent fallback to the defaults.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatError } from "../../src/cli/format-error.ts";
import { SettingsError } from "../../src/errors.ts";
import { loadSettings } from "../../src/manifest/index.ts";

const HOME = join(import.meta.dir, "../fixtures/manifest/valid/home");

function homeWith(text?: string): string {
  const home = mkdtempSync(join(process.env.TMPDIR!, "settings-"));
  mkdirSync(home, { recursive: true });
  if (text !== undefined) writeFileSync(join(home, "settings.yml"), text);
  return home;
}

describe("loadSettings", () => {
  test("no file: the defaults, marked defaulted", () => {
    const home = homeWith();
    expect(loadSettings(home)).toEqual({ file: join(home, "settings.yml"), defaulted: true, shutdown: "cutoff", preflight: "off", timezone: "UTC" });
  });

  test("defaults to $BOTTLE_HOME", () => {
    expect(loadSettings().file).toBe(join(process.env.BOTTLE_HOME!, "settings.yml"));
  });

  test("a full file, with a ledger path relative to the home", () => {
    expect(loadSettings(HOME)).toEqual({
      file: join(HOME, "settings.yml"),
      defaulted: false,
      budget: { claude: { tokens: 5000000 }, codex: { tokens: 2000000, per: "day" } },
      shutdown: "cutoff",
      preflight: "estimate",
      timezone: "Europe/Berlin",
      ledger: join(HOME, "data/ledger.db"),
      backend: "sandbox",
      explicit: ["budget", "shutdown", "preflight", "timezone", "ledger", "backend"],
    });
  });

  test("an empty file is valid and keeps the defaults, but is not 'defaulted'", () => {
    expect(loadSettings(homeWith("# nothing yet\n"))).toMatchObject({ defaulted: false, shutdown: "cutoff", preflight: "off", timezone: "UTC", explicit: [] });
  });

  test("an invalid file is an error, not the defaults", () => {
    const home = homeWith("budget:\n  claude: 5000000\n  codex: lots\n");
    let err: unknown;
    try {
      loadSettings(home);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect(formatError(err).text).toBe(
      `error: ${join(home, "settings.yml")}:3: budget.codex must be a positive whole number of tokens, not "lots" — e.g. claude: 5000000, or codex: { tokens: 2000000, per: day }`,
    );
  });

  test("an absolute ledger path is kept", () => {
    expect(loadSettings(homeWith("ledger: /var/lib/bottle/ledger.db\n")).ledger).toBe("/var/lib/bottle/ledger.db");
  });
});
