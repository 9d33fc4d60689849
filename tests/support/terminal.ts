/**
 * A real terminal for tests: one tmux session on a private server socket, running one command with an
 * exact environment. Tests type into it (send-keys), read the screen (capture-pane; remain-on-exit keeps
 * the last screen) and read the command's exit status, which a tiny sh wrapper writes to a file (under
 * `bun test`, tmux's own pane_dead_status was seen to stay empty). `close` kills the session by name and
 * then this test's own tmux server, so nothing outlives the test.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function tmux(socket: string, args: string[]): { code: number; out: string; err: string } {
  // The server's socket goes under the test's temporary tree (removed after the run), not /tmp/tmux-<uid>.
  const r = Bun.spawnSync(["tmux", "-L", socket, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, TMUX_TMPDIR: tmpdir() } });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

let serial = 0;

/** `sh -c WRAPPER sh <status file> <argv…>`: runs argv (no shell parsing of it) and records its exit status. */
const WRAPPER = 'status="$1"; shift; "$@"; echo "$?" > "$status.tmp" && mv "$status.tmp" "$status"';

export interface TerminalOptions {
  cwd: string;
  /** The command's whole environment (nothing else is inherited). */
  env: Record<string, string>;
  cols?: number;
  rows?: number;
  /** Extra tmux.conf lines (e.g. `set -g set-clipboard on`, so OSC 52 writes land in tmux's buffer). */
  conf?: string[];
}

export class Terminal {
  private constructor(
    readonly socket: string,
    readonly name: string,
    private readonly statusFile: string,
  ) {}

  static start(argv: string[], opts: TerminalOptions): Terminal {
    const socket = `bottle-test-${process.pid}-${++serial}`;
    const dir = mkdtempSync(join(tmpdir(), "tmux-"));
    const conf = join(dir, "tmux.conf");
    const statusFile = join(dir, "status");
    writeFileSync(conf, ["set -g remain-on-exit on", "set -g history-limit 10000", "set -g status off", ...(opts.conf ?? [])].join("\n") + "\n");
    const name = `t${serial}`;
    const envArgs = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
    const r = tmux(socket, ["-f", conf, "new-session", "-d", "-s", name, "-x", String(opts.cols ?? 120), "-y", String(opts.rows ?? 40), "-c", opts.cwd, "--", "sh", "-c", WRAPPER, "sh", statusFile, "env", "-i", ...envArgs, ...argv]);
    if (r.code !== 0) throw new Error(`tmux new-session failed: ${r.err}`);
    return new Terminal(socket, name, statusFile);
  }

  /** The screen as text (with `escapes`, SGR color codes included), plus the scrollback. */
  screen(escapes = false): string {
    return tmux(this.socket, ["capture-pane", "-p", "-J", "-S", "-", ...(escapes ? ["-e"] : []), "-t", this.name]).out;
  }

  /** Waits until the screen matches; throws with the screen attached when it does not within `timeoutMs`. */
  async waitFor(what: string | RegExp, timeoutMs = 20_000, escapes = false): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const shows = (s: string) => (typeof what === "string" ? s.includes(what) : what.test(s));
    for (;;) {
      const s = this.screen(escapes);
      if (shows(s)) return s;
      const ended = this.status();
      if (ended !== undefined) {
        // The command has exited: what it did not draw it never will. One more look, after tmux has
        // drawn the last of its output, then fail now rather than at the deadline.
        await Bun.sleep(200);
        const last = this.screen(escapes);
        if (shows(last)) return last;
        throw new Error(`terminal never showed ${String(what)}: the command exited with status ${ended}; the screen was:\n${last}`);
      }
      if (Date.now() > deadline) throw new Error(`terminal never showed ${String(what)} in ${timeoutMs} ms; the screen was:\n${s}`);
      await Bun.sleep(50);
    }
  }

  /** The pane's title, as the command last set it (OSC 0 or 2). */
  title(): string {
    return tmux(this.socket, ["display-message", "-p", "-t", this.name, "#{pane_title}"]).out.trimEnd();
  }

  /** tmux's newest paste buffer ("" when there is none): where an OSC 52 clipboard write lands. */
  clipboard(): string {
    const r = tmux(this.socket, ["show-buffer"]);
    return r.code === 0 ? r.out : "";
  }

  /** Key names as tmux knows them: Enter, Escape, Down, Space, C-c, … */
  keys(...keys: string[]): void {
    tmux(this.socket, ["send-keys", "-t", this.name, ...keys]);
  }

  /** Literal text, as if typed. */
  type(text: string): void {
    tmux(this.socket, ["send-keys", "-t", this.name, "-l", text]);
  }

  /** The command's exit status once it has ended (128 + n when signal n ended it), else undefined. */
  status(): number | undefined {
    const text = existsSync(this.statusFile) ? readFileSync(this.statusFile, "utf8") : "";
    return text.endsWith("\n") ? Number(text.trim()) : undefined;
  }

  async exited(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.status();
      if (s !== undefined) return s;
      if (Date.now() > deadline) throw new Error(`the command did not exit; the screen was:\n${this.screen()}`);
      await Bun.sleep(50);
    }
  }

  close(): void {
    tmux(this.socket, ["kill-session", "-t", this.name]);
    tmux(this.socket, ["kill-server"]);
  }
}
