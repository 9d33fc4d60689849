/**
 * The host's own git configuration can point into the workspace, and then what the agent writes there runs
 * on the host although no `.git` file changed. git-host-exec.test.ts covers what a repository's own config
 * names; this covers the user's global config (and `~` paths anywhere), which git reads on every command:
 * - `core.hooksPath = .githooks` set globally is relative to the work tree of whatever repository git is
 *   in, so a hook the agent adds at `.githooks/pre-commit` runs on the host's next commit;
 * - a global config that is itself a file in the workspace (a dotfiles repository, `~/.gitconfig` linked
 *   into it): the agent adds `core.fsmonitor` and every git command on the host runs its script;
 * - a global `include.path` naming a file in the workspace with `~`, and a repository's own `include.path`
 *   given with `~` (which the guard used to skip as "the user's own, outside any workspace").
 * From inside a real sandbox and a real docker bottle the agent plants each; after teardown the host runs
 * `git status`, `diff` and `commit` in the workspace, and the marker every planted script appends to must
 * not exist.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { setLogger, type Logger } from "../../src/log.ts";
import { echoProxy, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { BACKENDS, bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const GIT = Bun.which("git", { PATH: "/usr/bin:/bin" })!;
const HOME = process.env.HOME!;
const GLOBAL = join(HOME, ".gitconfig");
const HOST_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", PAGER: "cat" } as Record<string, string>;

function git(cwd: string, ...args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync([GIT, "-c", "user.name=Host User", "-c", "user.email=host@example.com", ...args], { cwd, env: HOST_ENV, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

/** A repository with one commit, under the (test) home so that `~` paths reach it; and a marker path beside it. */
function hostRepo(): { ws: string; marker: string } {
  const root = mkdtempSync(join(HOME, "gitcfg-"));
  roots.push(root);
  const ws = join(root, "ws");
  expect(git(root, "init", "-q", "-b", "main", ws).code).toBe(0);
  writeFileSync(join(ws, "a.txt"), "a\n");
  writeFileSync(join(ws, "team.gitconfig"), "[user]\n\tname = Team\n");
  writeFileSync(join(ws, "gitconfig"), "[user]\n\tname = Dotfiles\n");
  git(ws, "add", "-A");
  expect(git(ws, "commit", "-qm", "init").code).toBe(0);
  return { ws, marker: join(root, "marker") };
}

/** JavaScript, run by the agent (a docker test image has no coreutils), writing a script that records `name`. */
function plantScript(path: string, name: string, marker: string): string {
  const text = `#!/bin/sh\necho ${name} >> ${marker}\nexit 0\n`;
  return `fs.mkdirSync(${JSON.stringify(dirname(path))}, { recursive: true }); fs.writeFileSync(${JSON.stringify(path)}, ${JSON.stringify(text)}, { mode: 0o755 }); console.log("planted ${name}");`;
}

/** What a person does next on the host, in the workspace. */
function hostUses(dir: string): void {
  writeFileSync(join(dir, "a.txt"), "edited\n", { flag: "a" });
  git(dir, "status");
  git(dir, "diff");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "host commit");
}

interface Attack {
  name: string;
  /** The user's global config (written before the bottle starts). */
  global(ws: string): void;
  /** More setup in the repository. */
  setup?(ws: string): void;
  /** The agent's JavaScript (`fs` is node:fs). */
  plant(ws: string, marker: string): string;
  /** Where on the host the person runs git (default: the workspace). */
  where?: string;
}

const fsmonitorInto = (file: string, ws: string, marker: string) =>
  `${plantScript(join(ws, ".p-fsmonitor.sh"), "fsmonitor", marker)} fs.appendFileSync(${JSON.stringify(file)}, ${JSON.stringify(`[core]\n\tfsmonitor = ${join(ws, ".p-fsmonitor.sh")}\n`)});`;

const ATTACKS: Attack[] = [
  {
    name: "a global core.hooksPath relative to the work tree",
    global: () => writeFileSync(GLOBAL, "[core]\n\thooksPath = .githooks\n"),
    plant: (ws, marker) => plantScript(join(ws, ".githooks", "pre-commit"), "hook", marker),
  },
  {
    name: "a global core.hooksPath, in a repository the agent made",
    global: () => writeFileSync(GLOBAL, "[core]\n\thooksPath = .githooks\n"),
    where: "made",
    plant: (ws, marker) =>
      `for (const d of ["made/.git/objects", "made/.git/refs/heads"]) fs.mkdirSync(${JSON.stringify(ws)} + "/" + d, { recursive: true }); ` +
      `fs.writeFileSync(${JSON.stringify(join(ws, "made/.git/HEAD"))}, "ref: refs/heads/main\\n"); ` +
      plantScript(join(ws, "made", ".githooks", "pre-commit"), "hook", marker),
  },
  {
    name: "a global config that is a file in the workspace (dotfiles)",
    global: (ws) => symlinkSync(join(ws, "gitconfig"), GLOBAL),
    plant: (ws, marker) => fsmonitorInto(join(ws, "gitconfig"), ws, marker),
  },
  {
    name: "a global include.path into the workspace, given with ~",
    global: (ws) => writeFileSync(GLOBAL, `[include]\n\tpath = ~/${relative(HOME, join(ws, "team.gitconfig"))}\n`),
    plant: (ws, marker) => fsmonitorInto(join(ws, "team.gitconfig"), ws, marker),
  },
  {
    name: "the repository's own include.path given with ~",
    global: () => undefined,
    setup: (ws) => void git(ws, "config", "include.path", `~/${relative(HOME, join(ws, "team.gitconfig"))}`),
    plant: (ws, marker) => fsmonitorInto(join(ws, "team.gitconfig"), ws, marker),
  },
];

let proxy: EchoProxy;
const roots: string[] = [];
const b = bottles();
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
beforeAll(() => {
  proxy = echoProxy();
  setLogger(quiet);
});
afterEach(async () => {
  await b.closeAll();
  rmSync(GLOBAL, { force: true });
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
}, 120_000);
afterAll(() => proxy?.stop());

for (const kind of BACKENDS) {
  describe(`${kind} bottle: the host's own git config pointing into the workspace`, () => {
    for (const attack of ATTACKS) {
      test(`${attack.name}: the host's git status, diff and commit run nothing the agent wrote`, async () => {
        const { ws, marker } = hostRepo();
        attack.setup?.(ws);
        attack.global(ws);
        // The plant works on the host when no bottle is involved: the control that makes the case real.
        const control = hostRepo();
        attack.setup?.(control.ws);
        Bun.spawnSync([process.execPath, "-e", `const fs = require("fs"); ${attack.plant(control.ws, control.marker)}`], { cwd: control.ws });
        rmSync(GLOBAL, { force: true });
        attack.global(control.ws);
        hostUses(join(control.ws, attack.where ?? ""));
        expect(existsSync(control.marker)).toBe(true);
        rmSync(GLOBAL, { force: true });
        attack.global(ws);

        const h = await b.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: ws }));
        const planted = await b.run(h, [process.execPath, "-e", `const fs = require("fs"); ${attack.plant(ws, marker)}`]);
        // The script is planted wherever the mounts leave the agent room; the config it names may be refused.
        expect(planted.stdout).toContain("planted ");
        await b.closeAll();
        hostUses(join(ws, attack.where ?? ""));
        expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
        expect(git(join(ws, attack.where ?? ""), "log", "-1", "--format=%s").out.trim()).toBe("host commit");
      });
    }

    test("a symlink the agent puts on the way to a hooks directory the config names is moved aside; the host directory behind it is not touched", async () => {
      const { ws, marker } = hostRepo();
      git(ws, "config", "core.hooksPath", "tools/hooks");
      // A directory outside the workspace with a hooks/ of its own (say, the run home the agent also writes).
      const victim = join(dirname(ws), "victim");
      mkdirSync(join(victim, "hooks"), { recursive: true });
      writeFileSync(join(victim, "hooks", "pre-commit"), `#!/bin/sh\necho victim-hook >> ${marker}\n`, { mode: 0o755 });
      const h = await b.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: ws }));
      const planted = await b.run(h, [process.execPath, "-e", `require("fs").symlinkSync(${JSON.stringify(victim)}, ${JSON.stringify(join(ws, "tools"))}); console.log("planted")`]);
      expect(planted.stdout).toContain("planted");
      await b.closeAll();
      expect(readFileSync(join(victim, "hooks", "pre-commit"), "utf8")).toContain("victim-hook");
      expect(existsSync(join(ws, "tools"))).toBe(false);
      hostUses(ws);
      expect(existsSync(marker) ? readFileSync(marker, "utf8") : "").toBe("");
    });
  });
}
