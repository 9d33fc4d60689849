/**
 * Which backend runs a bottle (DESIGN §5): the `--backend` flag wins, then $BOTTLE_BACKEND, then the
 * bottle's own `backend.prefer` and settings.yml's `backend`, then docker if an engine answers, then the
 * sandbox on Linux. An explicit choice that cannot run here is an error naming what to install; so is
 * finding nothing usable. The rule is a pure function over availability probes, which are only run when
 * the rule needs them.
 */
import { BackendError, UsageError } from "../errors.ts";
import { BACKENDS, type BackendName } from "../manifest/types.ts";
import { DockerBackend } from "./docker/index.ts";
import { SandboxBackend } from "./sandbox/index.ts";
import type { Availability, Backend } from "./types.ts";

export interface SelectInput {
  flag?: string;
  /** $BOTTLE_BACKEND. */
  env?: string;
  /** The composed bottle's `backend.prefer`, with the file that set it. */
  prefer?: { name: BackendName; file?: string };
  /** settings.yml `backend`, with the file. */
  settings?: { name: BackendName; file?: string };
  platform?: NodeJS.Platform;
}

export type Probe = (name: BackendName) => Promise<Availability>;

export interface Selection {
  name: BackendName;
  /** Why this one: `--backend`, `BOTTLE_BACKEND`, `bottle`, `settings` or `auto`. */
  via: "flag" | "env" | "bottle" | "settings" | "auto";
  /** Why the automatic choice is not the first it tried (docker's image was not usable). */
  note?: string;
}

/** Makes the docker image of the run ready (or, without `build`, checks it could be); throws BackendError why not. */
export type PrepareDocker = (build: boolean) => Promise<void>;

function parseName(v: string, key: string, usage: boolean): BackendName {
  if ((BACKENDS as readonly string[]).includes(v)) return v as BackendName;
  const Err = usage ? UsageError : BackendError;
  throw new Err(`unknown backend ${JSON.stringify(v)}`, { key, fix: `use one of: ${BACKENDS.join(", ")}` });
}

export async function selectBackend(input: SelectInput, probe: Probe): Promise<Selection> {
  const explicit: [string | undefined, Selection["via"], string, string | undefined][] = [
    [input.flag, "flag", "--backend", undefined],
    [input.env, "env", "BOTTLE_BACKEND", undefined],
    [input.prefer?.name, "bottle", "backend.prefer", input.prefer?.file],
    [input.settings?.name, "settings", "backend", input.settings?.file],
  ];
  for (const [value, via, key, file] of explicit) {
    if (value === undefined || value === "") continue;
    const name = parseName(value, key, via === "flag");
    const a = await probe(name);
    if (!a.ok) throw new BackendError(`the ${name} backend (chosen by ${key}) cannot run here: ${a.reason}`, { key, ...(file ? { file } : {}), fix: a.fix });
    return { name, via };
  }
  const docker = await probe("docker");
  if (docker.ok) return { name: "docker", via: "auto" };
  const platform = input.platform ?? process.platform;
  const sandbox: Availability = platform === "linux" ? await probe("sandbox") : { ok: false, reason: "the sandbox backend needs Linux", fix: "" };
  if (sandbox.ok) return { name: "sandbox", via: "auto" };
  throw new BackendError(`no backend can run a bottle here: docker: ${docker.reason}; sandbox: ${sandbox.reason}`, {
    key: "backend",
    fix: platform === "linux" ? "install bubblewrap (apt-get install bubblewrap) or docker (apt-get install docker.io, then start dockerd)" : "install and start Docker Desktop",
  });
}

/**
 * An engine that answers is not enough: the agent's image must exist or be buildable (DESIGN §5). When the
 * docker choice was automatic and its image cannot be had (offline, no base image), the sandbox takes over
 * with a note saying why; a docker chosen on purpose (`--backend docker`, …) fails with the real cause.
 */
export async function usableBackend(sel: Selection, prepare: PrepareDocker, o: { build: boolean; probe: Probe; platform?: NodeJS.Platform }): Promise<Selection> {
  if (sel.name !== "docker") return sel;
  try {
    await prepare(o.build);
    return sel;
  } catch (e) {
    if (sel.via !== "auto" || !(e instanceof BackendError)) throw e;
    const sandbox: Availability = (o.platform ?? process.platform) === "linux" ? await o.probe("sandbox") : { ok: false, reason: "the sandbox backend needs Linux", fix: "" };
    if (!sandbox.ok) throw new BackendError(`${e.message}; and the sandbox backend cannot run here either: ${sandbox.reason}`, { key: "backend", fix: e.context.fix ?? sandbox.fix });
    return { name: "sandbox", via: "auto", note: `the docker engine answers, but ${e.message}; using the sandbox backend instead (--backend docker to insist)` };
  }
}

export function createBackend(name: BackendName, home?: string): Backend {
  return name === "docker" ? new DockerBackend(home ? { home } : {}) : new SandboxBackend(home ? { home } : {});
}

/** The real probe: ask each backend. */
export const probeBackend: Probe = (name) => createBackend(name).available();
