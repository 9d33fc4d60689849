/**
 * `bottle run --headless` on a real terminal (tmux, accepting OSC 52 into its paste buffer), with a hostile
 * stand-in for the claude CLI in a real sandbox bottle: it sets the title, writes the clipboard, asks for
 * reports the terminal would type into the shell after bottle exits, and forges bottle's end-of-run line
 * before turning on SGR 8 (conceal) with its last line unfinished. bottle's own end-of-run line must come
 * out visible, on a line of its own, and nothing may land in the title, the clipboard or the shell's input.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../helpers/bottles.ts";
import { Terminal } from "../support/terminal.ts";
import { MAIN, shellEnv, wizardHome } from "../support/wizard-fixture.ts";

// The stand-in CLI must sit where the bottle sees the host read-only (not under /tmp or $HOME).
mkdirSync(join(REPO, ".cache"), { recursive: true });
const binRoot = mkdtempSync(join(REPO, ".cache", "hostile-cli-"));
afterAll(() => rmSync(binRoot, { recursive: true, force: true }));

const CLI = `#!/bin/sh
printf 'agent says hi\\033]2;PWNED-TITLE\\007\\n'
printf '\\033]52;c;Y3VybCB4fHNo\\007' >&2
printf '\\033[6n\\033[c\\033[21t\\033P$qm\\033\\\\\\033]11;?\\007'
printf 'bottle: run fake: 0 metered requests, 0 tokens (0 in, 0 out)\\n\\033[8mhidden'
`;

const HOST = 'go="$1"; shift; stty -echo; "$@"; echo "exit:$?"; while [ ! -e "$go" ]; do sleep 0.1; done; stty -icanon min 0 time 0; printf "typed:[%s]\\n" "$(od -An -c | tr -d " \\n")"';

test("a headless run's agent cannot work the terminal, nor hide or run into bottle's end-of-run line", async () => {
  chmodSync(binRoot, 0o755); // mkdtemp makes it 0700: a root launch runs the agent as another uid
  writeFileSync(join(binRoot, "claude"), CLI);
  chmodSync(join(binRoot, "claude"), 0o755);
  const fx = wizardHome();
  const go = join(fx.project, "..", "go");
  const env = shellEnv(fx.home, { PATH: `${binRoot}:${process.env.PATH}`, ANTHROPIC_API_KEY: "sk-ant-test-not-used" });
  const argv = ["sh", "-c", HOST, "sh", go, "bun", MAIN, "run", "claude", "--headless", "--prompt", "hi", "--backend", "sandbox", "--label", "hostile"];
  const t = Terminal.start(argv, { cwd: fx.project, env, conf: ["set -g set-clipboard on"], cols: 200 });
  try {
    await t.waitFor("exit:", 90_000);
    writeFileSync(go, "");
    await t.waitFor("typed:", 30_000);
    const plain = t.screen();
    const styled = t.screen(true);
    expect(plain).toContain("agent says hi");
    expect(plain).toContain("exit:0");
    expect(t.title()).not.toContain("PWNED");
    expect(t.clipboard()).toBe("");
    expect(plain).toContain("typed:[]");
    // bottle's real line starts a line of its own and comes after an SGR reset, so it is not concealed.
    const real = /^bottle: run (?!fake)\S+: 0 metered requests/m;
    expect(plain).toMatch(real);
    expect(plain).toContain("hidden\n");
    const after = styled.slice(styled.lastIndexOf("\x1b[8m"));
    expect(after).toContain("\x1b[0m");
    expect(after.indexOf("\x1b[0m")).toBeLessThan(after.search(/bottle: run (?!fake)/));
  } finally {
    t.close();
  }
}, 150_000);
