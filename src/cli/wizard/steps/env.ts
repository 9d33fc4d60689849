/**
 * Step 4: the env values a bottle asks for at launch (`TOKEN: "?Your GitHub token"`). Each is asked once,
 * in the bottles' order; anything that looks like a secret is typed into a masked field. When the host
 * environment already holds the variable, an empty answer keeps that value, and the prompt says so
 * (without showing it).
 */
import { basename } from "node:path";
import { password, text } from "@clack/prompts";
import type { PendingEnvPrompt } from "../../../launch/types.ts";
import { answered } from "../cancel.ts";
import { looksSecret } from "../secret.ts";

export async function askEnv(questions: readonly PendingEnvPrompt[], hostEnv: Record<string, string | undefined>): Promise<Record<string, string>> {
  const answers: Record<string, string> = {};
  for (const q of questions) {
    const host = hostEnv[q.name];
    const keep = q.hostHasValue && host !== undefined && host !== "";
    const from = q.file ? ` for ${basename(q.file)}` : "";
    const message = `${q.message} ($${q.name}${from})${keep ? `: Enter keeps your $${q.name}` : ""}`;
    const validate = (v: string | undefined) => (keep || (v ?? "") !== "" ? undefined : `${q.name} needs a value`);
    const v =
      (looksSecret(q.name, q.message)
        ? answered(await password({ message, validate }))
        : answered(await text({ message, validate, ...(keep ? { placeholder: "(from your environment)" } : {}) }))) ?? "";
    answers[q.name] = v === "" && keep ? host! : v;
  }
  return answers;
}
