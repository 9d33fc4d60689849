/**
 * Test isolation, loaded before any test file (bunfig.toml). Tests must never touch the real home directory
 * or hold a provider API key, so HOME, BOTTLE_HOME and TMPDIR point at a fresh temp tree and every provider
 * key is removed before any src/ module is imported.
 */
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, setDefaultTimeout } from "bun:test";

const root = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "bottle-test-"));
for (const d of ["home", "bottle-home", "tmp"]) mkdirSync(join(root, d), { recursive: true });

process.env.HOME = join(root, "home");
process.env.BOTTLE_HOME = join(root, "bottle-home");
process.env.TMPDIR = join(root, "tmp");
process.env.XDG_CONFIG_HOME = join(root, "home", ".config");
process.env.XDG_DATA_HOME = join(root, "home", ".local", "share");
process.env.XDG_CACHE_HOME = join(root, "home", ".cache");
process.env.NO_COLOR = "1";
process.env.TZ = "UTC";
process.env.BOTTLE_TEST_ROOT = root;

for (const k of Object.keys(process.env)) {
  if (/(_API_KEY|_AUTH_TOKEN|_ACCESS_TOKEN)$/.test(k) || /^(ANTHROPIC|OPENAI|CODEX|CLAUDE|PI)_/.test(k)) delete process.env[k];
  if (/^(https?|all|no)_proxy$/i.test(k)) delete process.env[k];
}
delete process.env.NODE_EXTRA_CA_CERTS;
delete process.env.SSL_CERT_FILE;

// Bounded like a test (the 5 s hook default was not enough on a loaded machine after many real bottles).
afterAll(() => {
  if (!process.env.BOTTLE_KEEP_TEST_TMP) rmSync(root, { recursive: true, force: true });
}, 60_000);

// bunfig.toml's `[test] timeout` is not applied by this Bun version (a 6 s test fails at 5 s with it set),
// and a default set here holds only for the first test file of a run (the next files are back at 5 s).
// So the project's test commands pass `--timeout 60000` (scripts/test.sh, scripts/test-isolation.sh); this
// covers a single file run by hand. Real-process suites set their own, longer ones.
setDefaultTimeout(60_000);
