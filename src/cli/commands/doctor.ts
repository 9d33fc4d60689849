/**
 * `bottle doctor`: checks what a run needs (each backend, each agent CLI and its version, the CA, the
 * ledger, settings.yml and the manifests) and prints one line per check, with the fix for anything that is
 * not ok. `--json` prints {ok, checks}. It exits 1 when a run could not start here, so a setup script can
 * gate on it; it changes nothing on disk.
 */
import { defineCommand } from "citty";
import { runDoctor } from "../../doctor/index.ts";
import type { Check } from "../../doctor/types.ts";
import { bottleHome } from "../../paths.ts";
import { printJson } from "../ledger-session.ts";

const MARK: Record<Check["status"], string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

export function doctorLines(checks: readonly Check[]): string[] {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}${c.status !== "ok" && c.fix ? ` — fix: ${c.fix}` : ""}`);
}

export default defineCommand({
  meta: { name: "doctor", description: "Check this host for what a run needs (backends, agent CLIs, CA, ledger, settings, manifests); exit 1 if a run could not start." },
  args: {
    json: { type: "boolean", description: "Print {ok, checks: [{name, status, detail, fix}]} as JSON." },
  },
  async run({ args }) {
    const report = await runDoctor({ home: bottleHome(), cwd: process.cwd(), PATH: process.env.PATH ?? "" });
    if (args.json) printJson(report);
    else process.stdout.write(`${doctorLines(report.checks).join("\n")}\n`);
    return report.ok ? 0 : 1;
  },
});
