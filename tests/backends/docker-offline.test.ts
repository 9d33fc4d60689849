/**
 * The docker backend on a host where no image registry answers (every machine these tests run on), against
 * the real engine:
 *
 * - a build whose base image is missing fails with that cause and the ways forward (load the image, or the
 *   sandbox), never "check that the docker engine runs", and the build's steps are reported as progress;
 * - a docker call that fails (here: no engine at DOCKER_HOST) is reported as such, never read as "no such
 *   container" or "no such image";
 * - `bottle run` with no --backend falls back to the sandbox with a one-line note when the docker image
 *   cannot be had, and `--backend docker` fails before a run is registered, naming the image and the fix.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DockerBackend } from "../../src/backends/docker/index.ts";
import { ensureImage, imageExists } from "../../src/backends/docker/images.ts";
import type { BottleHandle } from "../../src/backends/types.ts";
import { BackendError } from "../../src/errors.ts";
import { openLedger } from "../../src/ledger/index.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";

setDefaultTimeout(120_000);

const MISSING = `bottle-missing-base-${process.pid}-${Date.now()}:none`;
const expected = Bun.which("docker") !== null || !!process.env.CI;

if (!expected) {
  describe("docker offline", () => {
    test.skip("docker is not installed on this machine: the docker backend was not tested", () => {});
  });
} else {
  const savedHost = process.env.DOCKER_HOST;
  afterAll(() => {
    if (savedHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedHost;
  });

  test("a build whose base image cannot be had names the base image, the cause and the fix, and shows its steps", async () => {
    const progress: string[] = [];
    const e = await ensureImage(`test-offline-${process.pid}`, `FROM ${MISSING}\nRUN true\n`, { onProgress: (l) => progress.push(l) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BackendError);
    const err = e as BackendError;
    expect(err.message).toMatch(new RegExp(`its base image ${MISSING.replace(/[.:]/g, "\\$&")} is not on this host and (no image registry answers|the registry does not have it)`));
    expect(err.message).not.toContain("engine runs");
    expect(err.context.fix).toContain(`docker load -i base.tar`);
    expect(err.context.fix).toContain("--backend sandbox");
    expect(progress[0]).toContain("building docker image");
    // The legacy builder's "Step 1/N : FROM …", or BuildKit's "#N [1/M] FROM …".
    expect(progress.some((l) => /(Step 1\/\d+ :|\[1\/\d+\]) FROM /.test(l) && l.includes(MISSING.split(":")[0]!))).toBe(true);
  });

  test("a failed docker call is an error, not 'no such image' or 'no such container'", async () => {
    process.env.DOCKER_HOST = `unix://${join(process.env.TMPDIR!, `no-engine-${process.pid}.sock`)}`;
    try {
      const img = await imageExists("bottle-anything:latest").catch((x: unknown) => x);
      expect(img).toBeInstanceOf(BackendError);
      expect((img as Error).message).toContain("docker could not inspect image bottle-anything:latest");
      const handle = { runId: `gone-${process.pid}`, plan: { workspace: "copy" } } as BottleHandle;
      const stop = await new DockerBackend({ home: freshHome() }).stop(handle).catch((x: unknown) => x);
      expect(stop).toBeInstanceOf(BackendError);
      expect((stop as Error).message).toMatch(/docker could not inspect container bottle-gone-\d+: .*(Cannot connect|connect)/i);
      const teardown = await new DockerBackend({ home: freshHome() }).teardown(handle).catch((x: unknown) => x);
      expect(teardown).toBeInstanceOf(BackendError);
    } finally {
      if (savedHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = savedHost;
    }
  });

  test("no --backend: an unusable docker image falls back to the sandbox with a note; --backend docker fails with the cause before registering a run", async () => {
    if (!existsSync(join(AGENTS_BIN, "pi"))) throw new Error(`pi is not installed in ${AGENTS_BIN}: run bash scripts/install-agents.sh`);
    const home = freshHome();
    mkdirSync(join(home, "bottles"));
    writeFileSync(join(home, "bottles", "offline.md"), `---\nextends: anthropic\nbackend:\n  image: ${MISSING}\n---\n`);
    const o = { home, cwd: freshWorkspace(), env: { PATH: `${AGENTS_BIN}:${process.env.PATH}` }, timeoutMs: 100_000 };
    const auto = await runCli(["run", "pi", "--headless", "--prompt", "Say hi.", "--simulate", "--bottle", "offline"], o);
    expect(auto.timedOut).toBe(false);
    expect(auto.code, auto.stderr).toBe(0);
    const notes = auto.stderr.split("\n").filter((l) => l.includes("using the sandbox backend instead"));
    expect(notes).toEqual([`ℹ bottle: the docker engine answers, but the docker image ${MISSING} (the bottle's backend.image) is not on this host; using the sandbox backend instead (--backend docker to insist)`]);
    expect(auto.stderr).toMatch(/: pi in offline on sandbox, headless/);

    const home2 = freshHome();
    mkdirSync(join(home2, "bottles"));
    writeFileSync(join(home2, "bottles", "offline.md"), `---\nextends: anthropic\nbackend:\n  image: ${MISSING}\n---\n`);
    const forced = await runCli(["run", "pi", "--headless", "--prompt", "Say hi.", "--simulate", "--bottle", "offline", "--backend", "docker"], { ...o, home: home2 });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain(`error: the docker image ${MISSING} (the bottle's backend.image) is not on this host`);
    expect(forced.stderr).toContain("--backend sandbox");
    const db = await openLedger({ path: join(home2, "bottle.db") });
    try {
      expect(await db.selectFrom("runs").select("id").execute()).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
}
