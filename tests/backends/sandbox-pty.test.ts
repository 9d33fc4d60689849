/**
 * Interactive attach: the agent gets a pseudo-terminal of its own (a TTY on stdin and stdout, with our
 * window size), and keystrokes and output are relayed through it. The host side runs on a real terminal
 * made for the test.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { echoProxy, freshWorkspace, REPO } from "../helpers/bottles.ts";

const proxy = echoProxy();
afterAll(() => proxy.stop());

test("an interactive bottle process sees a TTY with our size, and our keystrokes reach it", async () => {
  let out = "";
  const script = 'test -t 0 && test -t 1 && echo TTY-OK; stty size; IFS= read -r line; echo "got:$line"; exit 3';
  const proc = Bun.spawn([process.execPath, join(REPO, "tests/fixtures/pty-exec.ts"), proxy.socketPath, freshWorkspace(), "sh", "-c", script], {
    env: process.env,
    terminal: { cols: 101, rows: 33, data: (_t, d) => void (out += new TextDecoder().decode(d)) },
  });
  try {
    for (let i = 0; i < 500 && !out.includes("33 101"); i++) await Bun.sleep(20);
    proc.terminal!.write("hello bottle\r");
    expect(await proc.exited).toBe(3);
    expect(out).toContain("TTY-OK");
    expect(out).toContain("33 101");
    expect(out).toContain("got:hello bottle");
  } finally {
    proc.kill("SIGKILL");
    proc.terminal?.close();
  }
}, 30_000);

test("the agent's title, clipboard and title-report sequences are not relayed; other output is", async () => {
  let out = "";
  // OSC 0 with BEL, OSC 2 with ST, an OSC 52 clipboard write, a title report request (CSI 21 t), then an
  // OSC 10 colour query and plain text, which must come through.
  const script = "printf '\\033]0;agent title\\007A\\033]2;other\\033\\\\B\\033]52;c;Y3VybCB4fHNo\\007\\033[21t\\033]10;?\\007C\\n'";
  const proc = Bun.spawn([process.execPath, join(REPO, "tests/fixtures/pty-exec.ts"), proxy.socketPath, freshWorkspace(), "sh", "-c", script], {
    env: process.env,
    terminal: { cols: 80, rows: 24, data: (_t, d) => void (out += new TextDecoder().decode(d)) },
  });
  try {
    expect(await proc.exited).toBe(0);
    expect(out).toContain("AB\x1b]10;?\x07C");
    expect(out).not.toContain("agent title");
    expect(out).not.toContain("other");
    expect(out).not.toContain("\x1b]52");
    expect(out).not.toContain("\x1b[21t");
  } finally {
    proc.kill("SIGKILL");
    proc.terminal?.close();
  }
}, 30_000);
