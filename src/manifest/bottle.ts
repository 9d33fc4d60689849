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
import type { Checker } from "./check.ts";

/** The line of each `extends` entry, for errors found later when bottles are composed. */
export const EXTENDS_LINES = new WeakMap<BottleManifest, number[]>();

export const BOTTLE_KEYS = ["name", "extends", "env", "egress", "budget", "shutdown", "preflight", "backend"] as const;

function checkBackend(c: Checker, v: unknown): BottleBackendOptions | undefined {
  if (v === null || v === undefined) return undefined;
  const m = c.mapping(v, ["backend"], ["prefer", "workspace", "image"]);
  const out: BottleBackendOptions = {};
  if (m.prefer !== undefined) out.prefer = c.oneOf(m.prefer, ["backend", "prefer"], BACKENDS);
  if (m.workspace !== undefined) out.workspace = c.oneOf(m.workspace, ["backend", "workspace"], ["bind", "copy"] as const);
  if (m.image !== undefined) out.image = c.string(m.image, ["backend", "image"], "image: my-agent-image:latest");
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
