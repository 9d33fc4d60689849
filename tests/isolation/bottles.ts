/**
 * The bottles the isolation suite attacks from: a real sandbox (bwrap) bottle, and a real docker bottle
 * when docker is installed (its engine must answer: docker tests fail rather than skip when it is
 * installed). Every case runs its attack as a process inside the bottle and asserts the outcome; the
 * bottles are torn down by handle after each test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DockerBackend } from "../../src/backends/docker/index.ts";
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import type { Backend, BottleHandle, BottlePlan, ExecResult } from "../../src/backends/types.ts";
import { testBaseImage } from "../helpers/docker-image.ts";

export type BackendKind = "sandbox" | "docker";

/** Backends this machine must test: sandbox always on Linux; docker whenever it is installed (or in CI). */
export const BACKENDS: BackendKind[] = ["sandbox", ...(Bun.which("docker") !== null || process.env.CI ? (["docker"] as const) : [])];

const backends = new Map<BackendKind, Backend>();

export async function backendFor(kind: BackendKind): Promise<Backend> {
  const known = backends.get(kind);
  if (known) return known;
  let b: Backend;
  if (kind === "sandbox") b = new SandboxBackend();
  else {
    const probe = new DockerBackend();
    const a = await probe.available();
    if (!a.ok) throw new Error(`docker is installed but the docker backend is unavailable: ${a.reason} (run scripts/start-docker.sh)`);
    b = new DockerBackend({ image: await testBaseImage() });
  }
  const a = await b.available();
  if (!a.ok) throw new Error(`${kind} backend unavailable: ${a.reason}`);
  backends.set(kind, b);
  return b;
}

export interface Bottles {
  open(kind: BackendKind, plan: BottlePlan): Promise<BottleHandle>;
  run(h: BottleHandle, argv: string[]): Promise<ExecResult>;
  closeAll(): Promise<void>;
}

export function bottles(): Bottles {
  const open: { b: Backend; h: BottleHandle }[] = [];
  return {
    async open(kind, plan) {
      const b = await backendFor(kind);
      const h = await b.create(plan);
      open.push({ b, h });
      return h;
    },
    async run(h, argv) {
      const b = await backendFor(h.backend as BackendKind);
      return b.provision(h, argv);
    },
    async closeAll() {
      for (const { b, h } of open.splice(0)) await b.teardown(h);
    },
  };
}

/** Whether this test process is root: the suite runs both ways (scripts/test-isolation.sh). */
export const AS_ROOT = process.getuid?.() === 0;

/**
 * A fresh directory for host secrets the agent must not reach, outside every place the old sandbox hid
 * (/tmp, /run, /home): /var/lib when root. An ordinary user can write nowhere like that, so it is TMPDIR.
 */
export function plantDir(): string {
  const base = AS_ROOT ? "/var/lib" : process.env.TMPDIR!;
  const dir = mkdtempSync(join(base, "bottle-iso-"));
  planted.push(dir);
  return dir;
}
const planted: string[] = [];

/** Removes every planted directory (call from afterAll). */
export function removePlanted(): void {
  for (const d of planted.splice(0)) rmSync(d, { recursive: true, force: true });
}
