/**
 * `--prompt` and `--stdin`, shared by `bottle run` and `bottle resume`. A headless agent's stdin is
 * /dev/null: Codex and pi wait for the end of a piped stdin before they start, and a CI runner, an ssh
 * session or a parent process that spawned bottle with a pipe may never close it, so the run would hang.
 * Two explicit ways use stdin instead: `--prompt -` reads the prompt from it (to its end, as `-` means stdin
 * for most Unix tools), and `--stdin` hands it to the agent as it is (`git diff | bottle run … --stdin`).
 */
import { UsageError } from "../errors.ts";

export interface PromptFlags {
  prompt?: string;
  stdin?: boolean;
  headless: boolean;
}

/** The prompt the flags name: `--prompt -` reads bottle's stdin to its end. */
export async function promptFromFlags(f: PromptFlags, readStdin: () => Promise<string> = () => Bun.stdin.text()): Promise<string | undefined> {
  if (f.stdin && !f.headless) {
    throw new UsageError("--stdin goes with --headless: an attached agent already has the terminal", { key: "--stdin", fix: "add --headless, or drop --stdin" });
  }
  if (f.prompt !== "-") return f.prompt;
  if (f.stdin) {
    throw new UsageError("--prompt - and --stdin both want bottle's stdin", { key: "--prompt", fix: "give the prompt as text (--prompt \"…\") and keep --stdin, or drop --stdin to read the prompt from stdin" });
  }
  if (!f.headless) {
    throw new UsageError("--prompt - reads the prompt from stdin, which goes with --headless", { key: "--prompt", fix: "add --headless and pipe the prompt in: … | bottle run AGENT --headless --prompt -" });
  }
  const text = (await readStdin()).replace(/\r?\n$/, "");
  if (text.trim() === "") {
    throw new UsageError("--prompt - read an empty prompt from stdin", { key: "--prompt", fix: "pipe the prompt in (echo \"…\" | bottle run AGENT --headless --prompt -), or give it as --prompt \"…\"" });
  }
  return text;
}
