/**
 * Git cannot be turned against the host (DESIGN §6a.4). From inside a real sandbox and a real docker bottle
 * in the default bind mode, the agent plants each way git finds configuration or hooks — a renamed or
 * replaced `.git`, `commondir`, `config.worktree`, a linked worktree's files, `info/`, a nested repository,
 * a directory laid out as a bare repository, a `.git` file pointing at the run's home — with every key that
 * runs a program (core.fsmonitor, core.hooksPath, core.pager, core.sshCommand, filter and diff drivers).
 * After the bottle is torn down, the host runs `git status`, `git diff`, `git log` (on a terminal, so the
 * pager would start) and `git commit` where the plant is reached; the marker file every planted program
 * appends to must not exist. The agent can still commit inside the bottle.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DockerBackend } from "../../src/backends/docker/index.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import type { Backend, BottleHandle } from "../../src/backends/types.ts";
import { setLogger, type Logger } from "../../src/log.ts";
import { echoProxy, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { testBaseImage } from "../helpers/docker-image.ts";

setDefaultTimeout(120_000);

const PLANT = resolve(import.meta.dir, "../fixtures/git-plant.ts");
const GIT = Bun.which("git", { PATH: "/usr/bin:/bin" })!;
/** What git needs inside a docker bottle built from the test image (the sandbox sees the host's). */
const GIT_FILES = [GIT, "/usr/lib/git-core", "/usr/share/git-core"];
const HOST_GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", PAGER: "cat" } as Record<string, string>;

let proxy: EchoProxy;
/** Each test's repositories, removed after it (a few thousand files; the run's end should not wait on them). */
const roots: string[] = [];
const warnings: string[] = [];
const quiet: Logger = { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };

function git(cwd: string, ...args: string[]): { code: number; out: string } {
  const r = Bun.spawnSync([GIT, "-c", "user.name=Host User", "-c", "user.email=host@example.com", ...args], { cwd, env: HOST_GIT_ENV, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

interface Repo {
  root: string;
  ws: string;
  linked: string;
  marker: string;
}

/** A host repository with one commit, a linked worktree outside it, and per-worktree config enabled. */
function hostRepo(): Repo {
  const root = mkdtempSync(join(tmpdir(), "gitguard-"));
  roots.push(root);
  const ws = join(root, "ws");
  expect(git(root, "init", "-q", "-b", "main", ws).code).toBe(0);
  writeFileSync(join(ws, "a.txt"), "a\n");
  git(ws, "add", "a.txt");
  expect(git(ws, "commit", "-qm", "init").code).toBe(0);
  expect(git(ws, "worktree", "add", "-q", join(root, "linked")).code).toBe(0);
  git(ws, "config", "extensions.worktreeConfig", "true");
  return { root, ws, linked: join(root, "linked"), marker: join(root, "marker") };
}

/** What a person does next on the host, in `dir`: status, diff, log on a terminal, commit. */
function hostUses(dir: string): void {
  for (const f of ["a.txt", "file.txt"]) if (existsSync(join(dir, f))) writeFileSync(join(dir, f), `edited ${f}\n`, { flag: "a" });
  git(dir, "status");
  git(dir, "diff");
  Bun.spawnSync(["script", "-qec", `${GIT} log -1`, "/dev/null"], { cwd: dir, env: { ...HOST_GIT_ENV, PAGER: "" }, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  git(dir, "commit", "-qam", "host commit");
}

function markerText(r: Repo): string {
  return existsSync(r.marker) ? readFileSync(r.marker, "utf8").trim() : "";
}

interface Attack {
  name: string;
  /** Where on the host the person then runs git. */
  where(r: Repo): string;
  /** Steps the bottle's mounts refuse (the first layer). */
  refused?: string[];
  /** Workspace paths the check after the run reports (the second layer). */
  reported?: string[];
  /** More host state the attack needs. */
  setup?(r: Repo): void;
}

/** Files in the work tree that the repository's own config makes git run or read (committed, as teams do). */
function worktreeConfig(r: Repo): void {
  mkdirSync(join(r.ws, ".githooks"));
  writeFileSync(join(r.ws, ".githooks", "pre-commit"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  writeFileSync(join(r.ws, ".gitconfig-repo"), "[user]\n\tname = Team\n");
  mkdirSync(join(r.ws, "scripts"));
  writeFileSync(join(r.ws, "scripts", "conv.sh"), '#!/bin/sh\ncat "$1"\n', { mode: 0o755 });
  writeFileSync(join(r.ws, ".gitattributes"), "*.txt diff=conv\n");
  git(r.ws, "config", "core.hooksPath", ".githooks");
  git(r.ws, "config", "include.path", "../.gitconfig-repo");
  git(r.ws, "config", "diff.conv.textconv", "sh scripts/conv.sh");
  git(r.ws, "add", "-A");
  expect(git(r.ws, "commit", "-qm", "team config").code).toBe(0);
}

/** A submodule at sub/, cloned from a repository beside the workspace. */
function addSubmodule(r: Repo): void {
  const origin = join(r.root, "sub-origin");
  expect(git(r.root, "init", "-q", "-b", "main", origin).code).toBe(0);
  writeFileSync(join(origin, "file.txt"), "sub\n");
  git(origin, "add", "file.txt");
  expect(git(origin, "commit", "-qm", "sub").code).toBe(0);
  expect(git(r.ws, "-c", "protocol.file.allow=always", "submodule", "add", "-q", origin, "sub").code).toBe(0);
  expect(git(r.ws, "commit", "-qm", "add sub").code).toBe(0);
}

const ATTACKS: Attack[] = [
  { name: "rename-dotgit", where: (r) => r.ws, refused: ["rename .git", "make a new .git"] },
  { name: "rewrite-config", where: (r) => r.ws, refused: ["write .git/config", "write .git/hooks/pre-commit"] },
  { name: "commondir", where: (r) => r.ws, refused: ["write .git/commondir"] },
  { name: "config-worktree", where: (r) => r.ws, refused: ["write .git/config.worktree"] },
  { name: "linked-worktree", where: (r) => r.linked, refused: ["write .git/worktrees/linked/commondir", "write .git/worktrees/linked/config.worktree"] },
  { name: "nested-repo", where: (r) => join(r.ws, "sub"), reported: ["sub/.git/config", "sub/.git/hooks/pre-commit"] },
  { name: "bare-dir", where: (r) => join(r.ws, "tools"), reported: ["tools/config", "tools/hooks/pre-commit"] },
  { name: "dotgit-file", where: (r) => join(r.ws, "pkg"), reported: ["pkg/.git"] },
  { name: "info", where: (r) => r.ws, refused: ["write .git/info/attributes", "write .git/info/exclude"] },
  { name: "worktree-hooks", where: (r) => r.ws, setup: worktreeConfig, refused: ["write .githooks/pre-commit", "add .githooks/post-commit"] },
  { name: "worktree-include", where: (r) => r.ws, setup: worktreeConfig, refused: ["write .gitconfig-repo"] },
  { name: "worktree-driver", where: (r) => r.ws, setup: worktreeConfig, refused: ["write scripts/conv.sh"] },
  { name: "submodule", where: (r) => join(r.ws, "sub"), setup: addSubmodule, refused: ["write .git/modules/sub/config", "write .git/modules/sub/hooks/pre-commit"] },
];

interface Kind {
  name: "sandbox" | "docker";
  backend?: Backend;
  setup(): Promise<Backend>;
}

const KINDS: Kind[] = [
  {
    name: "sandbox",
    async setup() {
      const b = new SandboxBackend();
      const a = await b.available();
      if (!a.ok) throw new Error(`sandbox backend unavailable: ${a.reason}`);
      return b;
    },
  },
  {
    name: "docker",
    async setup() {
      const probe = new DockerBackend();
      const a = await probe.available();
      if (!a.ok) throw new Error(`docker backend expected but unavailable: ${a.reason} (run scripts/start-docker.sh)`);
      return new DockerBackend({ image: await testBaseImage([GIT]) });
    },
  },
];

beforeAll(() => {
  proxy = echoProxy();
  setLogger(quiet);
});
afterAll(() => proxy?.stop());

for (const kind of KINDS) {
  describe(`git from a ${kind.name} bottle runs nothing on the host`, () => {
    const handles: BottleHandle[] = [];
    let backend: Backend;
    beforeAll(async () => {
      backend = await kind.setup();
    }, 300_000);
    afterEach(async () => {
      for (const h of handles.splice(0)) await backend.teardown(h).catch(() => undefined);
      for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
    }, 120_000);

    async function bottle(ws: string): Promise<BottleHandle> {
      const h = await backend.create(planFor({ proxySocket: proxy.socketPath, cwd: ws, expose: kind.name === "docker" ? GIT_FILES : [] }));
      handles.push(h);
      return h;
    }

    for (const attack of ATTACKS) {
      test(`${attack.name}: the host's git status, diff, log and commit run nothing the agent wrote`, async () => {
        const r = hostRepo();
        attack.setup?.(r);
        const h = await bottle(r.ws);
        const res = await backend.provision(h, [process.execPath, PLANT, attack.name, r.ws, r.marker, h.hostHome]);
        expect(res.stderr).toBe("");
        for (const step of attack.refused ?? []) expect(res.stdout).toContain(`refused ${step}:`);
        handles.splice(handles.indexOf(h), 1);
        warnings.length = 0;
        await backend.teardown(h);
        for (const rel of attack.reported ?? []) expect(warnings.some((w) => w.includes(`git-guard: ${join(r.ws, rel)} `))).toBe(true);
        hostUses(attack.where(r));
        expect(markerText(r)).toBe("");
        if (attack.where(r) === r.ws) expect(git(r.ws, "log", "-1", "--format=%s").out.trim()).toBe("host commit");
      });
    }

    test("while the bottle still runs, the host's git status runs nothing planted in commondir or config.worktree; afterwards bottle's placeholders are gone", async () => {
      const r = hostRepo();
      const h = await bottle(r.ws);
      for (const attack of ["commondir", "config-worktree"]) {
        const res = await backend.provision(h, [process.execPath, PLANT, attack, r.ws, r.marker, h.hostHome]);
        expect(res.stdout).toMatch(/refused write \.git\/(commondir|config\.worktree):/);
      }
      writeFileSync(join(r.ws, "a.txt"), "edited while the bottle runs\n", { flag: "a" });
      // Launched by root, the workspace is lent to the agent's uid for the run and the host's git refuses
      // it; a user who trusts every directory (safe.directory=*, common in CI) still gets nothing run.
      expect(git(r.ws, "-c", "safe.directory=*", "status", "--short").out).toContain("a.txt");
      expect(markerText(r)).toBe("");
      handles.splice(handles.indexOf(h), 1);
      await backend.teardown(h);
      expect(existsSync(join(r.ws, ".git", "commondir"))).toBe(false);
      expect(existsSync(join(r.ws, ".git", "config.worktree"))).toBe(false);
      expect(markerText(r)).toBe("");
    });

    test("a frozen bottle that resumes is guarded again: the plant is refused, the placeholders come back and go at the end", async () => {
      const r = hostRepo();
      const h = await bottle(r.ws);
      const snap = await backend.freeze(h);
      handles.splice(handles.indexOf(h), 1);
      expect(existsSync(join(r.ws, ".git", "commondir"))).toBe(false);
      const resumed = await backend.resume(snap);
      handles.push(resumed);
      expect(readFileSync(join(r.ws, ".git", "commondir"), "utf8")).toBe(".\n");
      const res = await backend.provision(resumed, [process.execPath, PLANT, "commondir", r.ws, r.marker, resumed.hostHome]);
      expect(res.stdout).toContain("refused write .git/commondir:");
      handles.splice(handles.indexOf(resumed), 1);
      await backend.teardown(resumed);
      expect(existsSync(join(r.ws, ".git", "commondir"))).toBe(false);
      hostUses(r.ws);
      expect(markerText(r)).toBe("");
    });

    test("a repository the agent creates keeps its history and remotes; its config keeps only safe keys", async () => {
      const r = hostRepo();
      const h = await bottle(r.ws);
      const sub = join(r.ws, "made");
      const inside = [
        ["git", "init", "-q", "-b", "main", sub],
        ["git", "-C", sub, "-c", "user.name=Agent", "-c", "user.email=agent@example.com", "commit", "-q", "--allow-empty", "-m", "agent's own"],
        ["git", "-C", sub, "remote", "add", "origin", "https://example.com/made.git"],
        ["git", "-C", sub, "config", "core.fsmonitor", join(r.ws, "fsmonitor.sh")],
        ["git", "-C", sub, "config", "alias.st", "!sh -c 'echo alias >> marker'"],
        [process.execPath, "-e", `require("fs").writeFileSync(${JSON.stringify(join(r.ws, "fsmonitor.sh"))}, ${JSON.stringify(`#!/bin/sh\necho fsmonitor >> ${r.marker}\n`)}, { mode: 0o755 })`],
      ];
      for (const argv of inside) {
        const res = await backend.provision(h, argv, { env: { PATH: "/usr/bin:/bin" } });
        expect(res.stderr).toBe("");
      }
      handles.splice(handles.indexOf(h), 1);
      warnings.length = 0;
      await backend.teardown(h);
      expect(warnings.some((w) => w.includes(`git-guard: ${join(sub, ".git/config")} `) && w.includes("safe keys"))).toBe(true);
      git(sub, "status");
      expect(markerText(r)).toBe("");
      expect(git(sub, "log", "-1", "--format=%s").out.trim()).toBe("agent's own");
      expect(git(sub, "config", "--get", "remote.origin.url").out.trim()).toBe("https://example.com/made.git");
      expect(git(sub, "config", "--get", "core.fsmonitor").code).toBe(1);
      expect(git(sub, "config", "--get", "alias.st").code).toBe(1);
    });

    test("the agent commits inside the bottle, and the commit is in the host's history", async () => {
      const r = hostRepo();
      const h = await bottle(r.ws);
      const res = await backend.provision(h, ["git", "-c", "user.name=Agent", "-c", "user.email=agent@example.com", "commit", "-q", "--allow-empty", "-m", "made inside"], { env: { PATH: "/usr/bin:/bin" } });
      expect(res.stderr).toBe("");
      expect(res.exitCode).toBe(0);
      // After the run: a root launcher's workspace is lent to the agent's uid until teardown (and git on the
      // host refuses a repository another uid owns meanwhile).
      await backend.teardown(h);
      expect(git(r.ws, "log", "-1", "--format=%s").out.trim()).toBe("made inside");
    });
  });
}
