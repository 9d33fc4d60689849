/**
 * Step 5: the preflight summary and the y/N question. The summary lines come from the launcher's
 * describePlan, so what the wizard shows is exactly what headless `--dry-run` prints; the default answer is
 * No, so an absent-minded Enter starts nothing.
 */
import { confirm, note } from "@clack/prompts";
import { answered } from "../cancel.ts";

export async function askLaunch(summary: readonly string[]): Promise<boolean> {
  note(summary.join("\n"), "Preflight");
  return answered(await confirm({ message: "Launch this run?", initialValue: false }));
}
