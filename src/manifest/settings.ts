/**
 * Host settings, `$BOTTLE_HOME/settings.yml` (DESIGN §3): the global budget, the default shutdown policy,
 * the pre-flight mode, the time zone budget windows are counted in, where the ledger lives and a preferred
 * backend. A missing file means the defaults (and says so with `defaulted: true`); a file that exists but is
 * invalid is a SettingsError naming the line, key and fix — never a silent fallback to defaults, because a
 * typo in a budget must not quietly remove the budget.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { SettingsError } from "../errors.ts";
import { isPostgresUrl } from "../ledger/dialect.ts";
import { bottleHome, homePaths } from "../paths.ts";
import { checkBudget } from "./budget-spec.ts";
import { Checker } from "./check.ts";
import { parseYaml } from "./frontmatter.ts";
import { readYamlFile } from "./yaml-limits.ts";
import { BACKENDS, PREFLIGHT_MODES, SHUTDOWN_POLICIES, type Settings } from "./types.ts";

export const SETTINGS_KEYS = ["budget", "shutdown", "preflight", "timezone", "ledger", "backend"] as const;

export function defaultSettings(file: string): Settings {
  return { file, defaulted: true, shutdown: "cutoff", preflight: "off", timezone: "UTC" };
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Validates settings text; `home` resolves a relative ledger path. */
export function parseSettings(text: string, file: string, home: string): Settings {
  const src = parseYaml(text, file, SettingsError);
  const c = new Checker(src, SettingsError, "settings file", "settings.yml");
  const data = c.mapping(src.data, [], SETTINGS_KEYS);
  const s: Settings = { ...defaultSettings(file), defaulted: false };
  const budget = checkBudget(c, data.budget);
  if (budget) s.budget = budget;
  if (data.shutdown !== undefined) s.shutdown = c.oneOf(data.shutdown, ["shutdown"], SHUTDOWN_POLICIES);
  if (data.preflight !== undefined) s.preflight = c.oneOf(data.preflight, ["preflight"], PREFLIGHT_MODES);
  if (data.timezone !== undefined) {
    const tz = c.string(data.timezone, ["timezone"], "timezone: Europe/Berlin");
    if (!isTimeZone(tz)) c.fail(["timezone"], `timezone ${JSON.stringify(tz)} is not an IANA time zone`, "use a name such as UTC, Europe/Berlin or America/New_York");
    s.timezone = tz;
  }
  if (data.ledger !== undefined) {
    const ledger = c.string(data.ledger, ["ledger"], "ledger: /var/lib/bottle/bottle.db");
    s.ledger = isPostgresUrl(ledger) || isAbsolute(ledger) ? ledger : resolve(home, ledger);
  }
  if (data.backend !== undefined) s.backend = c.oneOf(data.backend, ["backend"], BACKENDS);
  s.explicit = SETTINGS_KEYS.filter((k) => data[k] !== undefined);
  return s;
}

export function loadSettings(home: string = bottleHome()): Settings {
  const file = homePaths(home).settings;
  if (!existsSync(file)) return defaultSettings(file);
  return parseSettings(readYamlFile(file, SettingsError), file, home);
}
