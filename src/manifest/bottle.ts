/**
 * Bottles (DESIGN §2): `bottles/<name>.md` whose frontmatter holds what a sandbox allows — `extends`
 * (parents composed first), `env`, `egress` (routes and log level), `budget`, `shutdown`, `preflight` and
 * `backend` options. The body is free-form notes for humans.
 */
import { checkBudget } from "./budget-spec.ts";
import { checkEnv } from "./env.ts";
import { parseManifest, type ManifestText } from "./manifest-file.ts";
import { checkEgress } from "./routes.ts";
import { BACKENDS, PREFLIGHT_MODES, SHUTDOWN_POLICIES, type BottleBackendOptions, type BottleManifest, type SourceRef } from "./types.ts";
import { describe, type Checker } from "./check.ts";
import { DEFAULT_PIDS_LIMIT } from "../backends/process-limit.ts";

/** Below this an agent CLI with its tools cannot run; above it the limit protects nothing (Linux's pid_max). */
const MIN_PIDS = 128;
const MAX_PIDS = 4_194_304;

/** The line of each `extends` entry, for errors found later when bottles are composed. */
export const EXTENDS_LINES = new WeakMap<BottleManifest, number[]>();

export const BOTTLE_KEYS = ["name", "extends", "env", "egress", "budget", "shutdown", "preflight", "backend"] as const;

function checkBackend(c: Checker, v: unknown): BottleBackendOptions | undefined {
  if (v === null || v === undefined) return undefined;
  const m = c.mapping(v, ["backend"], ["prefer", "workspace", "image", "pids"]);
  const out: BottleBackendOptions = {};
  if (m.prefer !== undefined) out.prefer = c.oneOf(m.prefer, ["backend", "prefer"], BACKENDS);
  if (m.workspace !== undefined) out.workspace = c.oneOf(m.workspace, ["backend", "workspace"], ["bind", "copy"] as const);
  if (m.image !== undefined) out.image = c.string(m.image, ["backend", "image"], "image: my-agent-image:latest");
  if (m.pids !== undefined) {
    if (typeof m.pids !== "number" || !Number.isInteger(m.pids) || m.pids < MIN_PIDS || m.pids > MAX_PIDS) {
      c.fail(["backend", "pids"], `backend.pids (the most processes, threads included, one bottle may have) must be a whole number from ${MIN_PIDS} to ${MAX_PIDS}, not ${describe(m.pids)}`, `write it as pids: 2048, or remove it for the default ${DEFAULT_PIDS_LIMIT}`);
    }
    out.pids = m.pids;
  }
  return out;
}

export function parseBottle(m: ManifestText, source: SourceRef["source"]): BottleManifest {
  const { name, checker: c, data } = parseManifest(m, "bottle", BOTTLE_KEYS);
  const parents = data.extends === undefined || data.extends === null ? [] : c.names(data.extends, ["extends"], "bottle", true);
  const self = parents.indexOf(name);
  if (self >= 0) c.fail(["extends", ...(Array.isArray(data.extends) ? [self] : [])], `bottle ${name} extends itself`, `remove ${name} from extends`);
  const bottle: BottleManifest = { name, file: m.file, source, extends: parents, env: checkEnv(c, data.env), egress: checkEgress(c, data.egress) };
  EXTENDS_LINES.set(bottle, parents.map((_, i) => c.src.lineOf(Array.isArray(data.extends) ? ["extends", i] : ["extends"], "value")));
  const budget = checkBudget(c, data.budget);
  if (budget) bottle.budget = budget;
  if (data.shutdown !== undefined) bottle.shutdown = c.oneOf(data.shutdown, ["shutdown"], SHUTDOWN_POLICIES);
  if (data.preflight !== undefined) bottle.preflight = c.oneOf(data.preflight, ["preflight"], PREFLIGHT_MODES);
  const backend = checkBackend(c, data.backend);
  if (backend) bottle.backend = backend;
  return bottle;
}
