/**
 * A proxy host (`bottle proxy`, `bottle run`, `bottle resume`) restarts itself once, in place, with Bun's GC
 * timer off (src/cli/gc-timer-reexec.ts): the real `bottle proxy`, from source and as the compiled binary, is
 * read from outside through /proc/<pid>/environ, which holds the environment the process image was started
 * with, so it shows what Bun's runtime read. The pid is the one the test spawned (execve, not a child), and
 * SIGTERM still ends it with 0. The opt-outs leave the process as started, and a short command starts once
 * (counted with strace's execve trace).
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { GC_TIMER_VAR, gcTimerReexec, hostsProxy, type SelfImage } from "../../src/cli/gc-timer-reexec.ts";
import { compiledBottle } from "../helpers/compiled-cli.ts";
import { freshHome } from "../support/cli.ts";

// Real processes, and one release build of the binary.
setDefaultTimeout(120_000);
const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
const procs: Subprocess[] = [];

afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "TMPDIR"]) if (process.env[k]) env[k] = process.env[k]!;
  return { ...env, NO_COLOR: "1", TZ: "UTC", BOTTLE_HOME: freshHome(), ...extra };
}

/** The environment a process image was started with, as NAME → value. */
function startEnviron(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean)) {
    const i = kv.indexOf("=");
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** Starts `bottle proxy --simulate --json` and waits for its ready line (printed once it serves). */
async function readyProxy(argv: string[], env: Record<string, string>): Promise<Subprocess<"ignore", "pipe", "pipe">> {
  const p = Bun.spawn([...argv, "proxy", "--simulate", "--provider", "claude", "--json"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(p);
  const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
  const reader = p.stdout.getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`bottle proxy exited before it was ready: ${await new Response(p.stderr).text()}`);
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  expect((JSON.parse(text.slice(0, text.indexOf("\n"))) as { runId: string }).runId).toStartWith("proxy-");
  return p;
}

describe("which starts re-execute", () => {
  const source: SelfImage = { execPath: "/usr/bin/bun", argv0: "bun", argv: ["/usr/bin/bun", "/repo/src/cli/main.ts", "proxy", "--json"], execArgv: ["--smol"], compiled: false };
  const compiled: SelfImage = { execPath: "/opt/bottle", argv0: "bottle", argv: ["bun", "/$bunfs/root/bottle", "proxy", "--json"], execArgv: ["--baked"], compiled: true };

  test("the commands that host a proxy do, and the in-bottle bridge; short ones, help and dry runs do not", () => {
    for (const args of [["run"], ["run", "claude", "--headless"], ["resume", "r1"], ["proxy", "--json"], ["run", "claude", "--", "--help"], ["__bridge", "8080", "/s"], ["__bridge", "8080", "/s", "--", "claude", "--help"]]) expect(hostsProxy(args, {})).toBe(true);
    for (const args of [[], ["--version"], ["-v"], ["budget", "show"], ["ps"], ["dashboard"], ["ca", "path"], ["run", "--help"], ["proxy", "-h"], ["run", "claude", "--dry-run"]]) expect(hostsProxy(args, {})).toBe(false);
    expect(hostsProxy(["run", "claude"], { BOTTLE_DRY_RUN: "1" })).toBe(false);
  });

  test("from source the runtime's flags and the script are kept; compiled, the binary's own flags are not repeated", () => {
    const a = gcTimerReexec(["proxy", "--json"], { PATH: "/bin" }, source)!;
    expect(a).toEqual({ file: "/usr/bin/bun", argv: ["bun", "--smol", "/repo/src/cli/main.ts", "proxy", "--json"], env: { PATH: "/bin", [GC_TIMER_VAR]: "1" } });
    const b = gcTimerReexec(["proxy", "--json"], { PATH: "/bin" }, compiled)!;
    expect(b).toEqual({ file: "/opt/bottle", argv: ["bottle", "proxy", "--json"], env: { PATH: "/bin", [GC_TIMER_VAR]: "1" } });
  });

  test("the variable already set (to anything) or BOTTLE_NO_REEXEC leaves the process as started", () => {
    expect(gcTimerReexec(["proxy"], { [GC_TIMER_VAR]: "1" }, source)).toBeUndefined();
    expect(gcTimerReexec(["proxy"], { [GC_TIMER_VAR]: "0" }, source)).toBeUndefined();
    expect(gcTimerReexec(["proxy"], { BOTTLE_NO_REEXEC: "1" }, source)).toBeUndefined();
    expect(gcTimerReexec(["budget", "show"], {}, source)).toBeUndefined();
  });
});

describe("bottle proxy runs with Bun's GC timer off", () => {
  for (const kind of ["source", "compiled"] as const) {
    test(`${kind}: the serving process is the spawned pid, started again with ${GC_TIMER_VAR}=1, and SIGTERM ends it with 0`, async () => {
      const argv = kind === "source" ? ["bun", MAIN] : [await compiledBottle()];
      const p = await readyProxy(argv, baseEnv());
      const env = startEnviron(p.pid);
      expect(env[GC_TIMER_VAR]).toBe("1");
      expect(readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0")).toContain("proxy");
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(await new Response(p.stderr).text()).toContain("SIGTERM received, shutting down");
    });
  }

  test("BOTTLE_NO_REEXEC=1 and a value of the user's own leave the process as it was started", async () => {
    const off = await readyProxy(["bun", MAIN], baseEnv({ BOTTLE_NO_REEXEC: "1" }));
    expect(startEnviron(off.pid)[GC_TIMER_VAR]).toBeUndefined();
    const own = await readyProxy(["bun", MAIN], baseEnv({ [GC_TIMER_VAR]: "0" }));
    expect(startEnviron(own.pid)[GC_TIMER_VAR]).toBe("0");
    for (const p of [off, own]) {
      p.kill("SIGINT");
      expect(await p.exited).toBe(0);
    }
  });
});

describe("how many times a command starts", () => {
  /** execve calls that succeeded, over the process and its children, under strace. */
  async function execs(args: string[], stopAfterReady: boolean): Promise<{ execs: string[]; code: number }> {
    const log = join(freshHome(), "execve.log");
    const p = Bun.spawn(["strace", "-f", "-qq", "-v", "-e", "trace=execve", "-o", log, "bun", MAIN, ...args], { env: baseEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    procs.push(p);
    const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
    try {
      if (stopAfterReady) {
        const reader = p.stdout.getReader();
        const { value } = await reader.read(); // the ready line; the run id ends in the serving process's pid
        reader.releaseLock();
        const pid = Number(/-(\d+)$/.exec((JSON.parse(new TextDecoder().decode(value)) as { runId: string }).runId)![1]);
        process.kill(pid, "SIGTERM");
      }
      const code = await p.exited;
      return { execs: readFileSync(log, "utf8").split("\n").filter((l) => /execve\(/.test(l) && / = 0$/.test(l)), code };
    } finally {
      clearTimeout(timer);
    }
  }

  test.skipIf(!Bun.which("strace"))("--version, `ca path` and `proxy --help` start once; `proxy` starts twice, in the same process", async () => {
    for (const args of [["--version"], ["ca", "path"], ["proxy", "--help"]]) {
      const r = await execs(args, false);
      expect(r.code).toBe(0);
      expect(r.execs).toHaveLength(1);
    }
    const r = await execs(["proxy", "--simulate", "--provider", "claude", "--json"], true);
    expect(r.execs).toHaveLength(2);
    const pids = r.execs.map((l) => l.split(" ")[0]);
    expect(pids[1]).toBe(pids[0]!);
    expect(r.execs[1]).toContain(`"${GC_TIMER_VAR}=1"`);
  });
});
