/**
 * Composing bottles (DESIGN §2): a run asks for one or more bottles in order, and each may `extends:`
 * parents. The chain lists every bottle once, parents before children, in the order asked; merging walks
 * it, so `env` takes the later value, `egress.routes` concatenate (the first matching route wins in the
 * proxy), the log level and backend options take the latest value set. Shutdown and pre-flight follow the
 * budget code's rule (budget/policy.ts): the first requested bottle that sets one — itself or through its
 * nearest ancestor — wins. Budget layers are the requested bottles (scope bottle) in order, then their
 * ancestors nearest-first (scope parent), each bottle once, which is what budget/precedence.ts expects.
 * Unknown names get a did-you-mean; an `extends` cycle is an error that spells the cycle out. Pure.
 */
import { ManifestError } from "../errors.ts";
import { didYouMean } from "../util/did-you-mean.ts";
import { EXTENDS_LINES } from "./bottle.ts";
import type { Catalog } from "./catalog.ts";
import type { BottleManifest, BudgetLayer, ComposedBottle, PreflightMode, ShutdownPolicy } from "./types.ts";

function lookup(catalog: Catalog, name: string, from?: { bottle: BottleManifest; index: number }): BottleManifest {
  const b = catalog.bottles.get(name);
  if (b) return b;
  const guess = didYouMean(name, [...catalog.bottles.keys()]);
  const fix = `${guess ? `did you mean ${guess}? ` : ""}bottles are the files in $BOTTLE_HOME/bottles plus the built-in ones; \`bottle bottles\` lists them`;
  if (!from) throw new ManifestError(`unknown bottle ${JSON.stringify(name)}`, { key: "bottle", fix });
  const line = EXTENDS_LINES.get(from.bottle)?.[from.index];
  throw new ManifestError(`bottle ${from.bottle.name} extends the unknown bottle ${JSON.stringify(name)}`, {
    file: from.bottle.file,
    ...(line ? { line } : {}),
    key: from.bottle.extends.length > 1 ? `extends[${from.index}]` : "extends",
    fix,
  });
}

/** Parents-first order of everything `names` pull in, each bottle once; throws on a cycle. */
function linearize(catalog: Catalog, names: readonly string[]): BottleManifest[] {
  const out: BottleManifest[] = [];
  const done = new Set<string>();
  const visit = (b: BottleManifest, stack: BottleManifest[]) => {
    if (done.has(b.name)) return;
    const at = stack.findIndex((s) => s.name === b.name);
    if (at >= 0) {
      const cycle = [...stack.slice(at), b].map((s) => s.name).join(" → ");
      throw new ManifestError(`bottles extend each other in a cycle: ${cycle}`, { file: b.file, key: "extends", fix: `remove one of these extends so that the chain ends` });
    }
    b.extends.forEach((p, index) => visit(lookup(catalog, p, { bottle: b, index }), [...stack, b]));
    done.add(b.name);
    out.push(b);
  };
  for (const n of names) visit(lookup(catalog, n), []);
  return out;
}

/** Ancestors of `b`, nearest first (breadth-first over `extends`), each once. */
export function ancestorsOf(catalog: Catalog, b: BottleManifest): string[] {
  const seen = new Set<string>([b.name]);
  const out: string[] = [];
  let frontier = [b];
  while (frontier.length > 0) {
    const next: BottleManifest[] = [];
    for (const f of frontier) {
      for (const p of f.extends) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push(p);
        next.push(lookup(catalog, p));
      }
    }
    frontier = next;
  }
  return out;
}

/** The value of `pick` on the first requested bottle that sets it, on itself or its nearest ancestor. */
function firstSet<T>(catalog: Catalog, requested: readonly string[], ancestors: Record<string, string[]>, pick: (b: BottleManifest) => T | undefined): T | undefined {
  for (const r of requested) {
    for (const n of [r, ...ancestors[r]!]) {
      const v = pick(catalog.bottles.get(n)!);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

export function composeBottles(catalog: Catalog, names: string[]): ComposedBottle {
  if (names.length === 0) throw new ManifestError("no bottle to compose", { key: "bottle", fix: "name at least one bottle (--bottle NAME), or give the agent a default bottle:" });
  const requested = [...new Set(names)];
  const chain = linearize(catalog, requested);
  const ancestors = Object.fromEntries(requested.map((r) => [r, ancestorsOf(catalog, catalog.bottles.get(r)!)]));
  const composed: ComposedBottle = {
    requested,
    chain: chain.map((b) => b.name),
    ancestors,
    env: {},
    envOrigin: {},
    routes: [],
    log: "blocks",
    budgetLayers: [],
    backend: {},
    files: chain.map((b) => b.file),
  };
  for (const b of chain) {
    for (const [k, v] of Object.entries(b.env)) {
      composed.env[k] = v;
      composed.envOrigin[k] = b.file;
    }
    composed.routes.push(...b.egress.routes);
    if (b.egress.log) composed.log = b.egress.log;
    Object.assign(composed.backend, b.backend ?? {});
  }
  const layered = new Set<string>();
  const layer = (name: string, scope: BudgetLayer["scope"]) => {
    const b = catalog.bottles.get(name)!;
    if (layered.has(name) || !b.budget) return;
    layered.add(name);
    composed.budgetLayers.push({ scope, name, file: b.file, budget: b.budget });
  };
  requested.forEach((r) => layer(r, "bottle"));
  requested.forEach((r) => ancestors[r]!.forEach((a) => layer(a, "parent")));
  const shutdown = firstSet<ShutdownPolicy>(catalog, requested, ancestors, (b) => b.shutdown);
  const preflight = firstSet<PreflightMode>(catalog, requested, ancestors, (b) => b.preflight);
  if (shutdown) composed.shutdown = shutdown;
  if (preflight) composed.preflight = preflight;
  return composed;
}
