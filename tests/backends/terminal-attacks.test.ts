/**
 * A headless agent's output reaches the user's real terminal, and a terminal obeys more than text. Here a
 * stand-in agent in a real sandbox or docker bottle, run the way a headless run runs it, on a real terminal (tmux,
 * with OSC 52 clipboard writes accepted into its paste buffer), writes the known attacks: a window title,
 * a clipboard write (on stderr), report requests whose replies the terminal types into whatever reads it
 * next (after bottle, the user's shell), and SGR 8 to hide what is printed after it. None may land; text
 * and colours must. After the run, the host side reads what was typed into its terminal and prints a line
 * of its own, standing in for bottle's end-of-run lines.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { echoProxy, freshWorkspace, REPO } from "../helpers/bottles.ts";
import { Terminal } from "../support/terminal.ts";

const proxy = echoProxy();
afterAll(() => proxy.stop());

// "curl x|sh", base64: what the user would paste.
const AGENT = [
  "printf 'before\\033]2;PWNED-TITLE\\007'",
  "printf '\\033]52;c;Y3VybCB4fHNo\\007' >&2",
  "printf 'A\\033[6nB\\033[cC\\033[21tD\\n'",
  "printf '\\033[31mRED\\033[0m\\n'",
  "printf 'fake end\\033[8mEND-OF-AGENT'",
].join("; ");

// The host side: no echo (a reply would show up as it is typed), run the bottle, then, once the test has
// seen the agent's last output drawn, read whatever the terminal typed in the meantime, without waiting.
const HOST = 'go="$1"; shift; stty -echo; "$@"; echo "exit:$?"; while [ ! -e "$go" ]; do sleep 0.1; done; stty -icanon min 0 time 0; printf "typed:[%s]\\n" "$(od -An -c | tr -d " \\n")"; echo host-line';

const docker = Bun.which("docker") !== null || !!process.env.CI;

for (const kind of ["sandbox", "docker"] as const) {
  if (kind === "docker" && !docker) {
    describe("docker", () => test.skip("docker is not installed on this machine: the docker backend was not tested", () => {}));
    continue;
  }
  test(`${kind}: a headless agent's output cannot set the title or clipboard, make the terminal type, or hide what follows it`, async () => {
    const ws = freshWorkspace();
    const go = join(ws, "..", `go-${process.pid}`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.TERM = "screen-256color";
    env.LANG = "C.UTF-8";
    const argv = ["sh", "-c", HOST, "sh", go, process.execPath, join(REPO, "tests/fixtures/headless-exec.ts"), kind, proxy.socketPath, ws, "sh", "-c", AGENT];
    const t = Terminal.start(argv, { cwd: ws, env, conf: ["set -g set-clipboard on"] });
    try {
      await t.waitFor("exit:", 240_000);
      writeFileSync(go, "");
      await t.waitFor("host-line", 30_000);
      expect(existsSync(go)).toBe(true);
      const plain = t.screen();
      const styled = t.screen(true);
      expect(plain).toContain("exit:0");
      // Text and colour pass.
      expect(plain).toContain("before");
      expect(plain).toContain("ABCD");
      expect(styled).toContain("\x1b[31mRED");
      // The title, the clipboard and the terminal's input are untouched.
      expect(t.title()).not.toContain("PWNED");
      expect(t.clipboard()).toBe("");
      expect(plain).toContain("typed:[]");
      // What the host prints after the run is not concealed (colours are reset after the agent's SGR 8),
      // and starts a line of its own rather than running on from the agent's last line.
      const after = styled.slice(styled.lastIndexOf("\x1b[8m"));
      expect(after).toContain("\x1b[0m");
      expect(after.indexOf("\x1b[0m")).toBeLessThan(after.indexOf("exit:0"));
      expect(plain).toContain("END-OF-AGENT\nexit:0");
    } finally {
      t.close();
    }
  }, 300_000);

  test(`${kind}: when the output is not a terminal (a pipe, a CI log) the agent's bytes pass untouched`, async () => {
    const proc = Bun.spawn([process.execPath, join(REPO, "tests/fixtures/headless-exec.ts"), kind, proxy.socketPath, freshWorkspace(), "sh", "-c", AGENT], {
      env: process.env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(0);
      expect(out).toBe("before\x1b]2;PWNED-TITLE\x07A\x1b[6nB\x1b[cC\x1b[21tD\n\x1b[31mRED\x1b[0m\nfake end\x1b[8mEND-OF-AGENT");
      expect(err).toContain("\x1b]52;c;Y3VybCB4fHNo\x07");
    } finally {
      proc.kill("SIGKILL");
    }
  }, 300_000);
}
