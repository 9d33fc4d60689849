/**
 * The shapes of everything a user writes: agents, bottles and settings, after validation. Loading and
 * validation live in sibling modules; this file is the contract other subsystems (proxy, budget, backends,
 * launch) import, so it holds types and tiny constants only.
 */

export const PROVIDERS = ["claude", "codex", "pi"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const SHUTDOWN_POLICIES = ["cutoff", "freeze", "kill"] as const;
export type ShutdownPolicy = (typeof SHUTDOWN_POLICIES)[number];

export const WINDOWS = ["day", "week", "month"] as const;
export type BudgetWindow = (typeof WINDOWS)[number];

export const PREFLIGHT_MODES = ["off", "estimate", "provider", "clamp"] as const;
export type PreflightMode = (typeof PREFLIGHT_MODES)[number];

export const EGRESS_LOG_LEVELS = ["blocks", "full"] as const;
export type EgressLogLevel = (typeof EGRESS_LOG_LEVELS)[number];

export const BACKENDS = ["docker", "sandbox"] as const;
export type BackendName = (typeof BACKENDS)[number];

/** One provider's limit: a token count, optionally per calendar window. */
export interface BudgetLimit {
  tokens: number;
  per?: BudgetWindow;
}

/** A budget as written in a file: limits keyed by provider. */
export type BudgetSpec = Partial<Record<ProviderName, BudgetLimit>>;

/** Secret custody: strip the agent's credential header and inject `prefix + $env` from the host. */
export interface RouteAuth {
  /** Header to set upstream, e.g. `x-api-key` or `authorization`. */
  header: string;
  /** Host environment variable holding the real secret. */
  env: string;
  /** Prepended to the secret, e.g. `Bearer `. */
  prefix?: string;
}

/** One egress allowlist entry. */
export interface Route {
  /** Exact host (`api.anthropic.com`) or a wildcard for subdomains (`*.example.com`). */
  host: string;
  /** false: tunnel without terminating TLS (no metering). Default true for every allowed host. */
  mitm?: boolean;
  /** Send traffic for this host to another base URL (`https://gateway.corp/anthropic`, `http://127.0.0.1:8080`). */
  upstream?: string;
  auth?: RouteAuth;
  /** Which provider's usage this host carries; inferred for the known API hosts. */
  provider?: ProviderName;
  /**
   * Paths (and everything under them) that may change state on this metered host without being metered,
   * e.g. `["/v1/files"]`. Everything else that cannot be metered is refused; see docs/proxy.md.
   */
  unmetered?: string[];
}

export interface Egress {
  routes: Route[];
  log?: EgressLogLevel;
}

/** Where a manifest came from, for listings and error messages. */
export interface SourceRef {
  file: string;
  source: "home" | "cwd" | "embedded";
}

export interface AgentManifest extends SourceRef {
  name: string;
  provider: ProviderName;
  /** Default bottle to compose. */
  bottle?: string;
  model?: string;
  skills: string[];
  budget?: BudgetSpec;
  shutdown?: ShutdownPolicy;
  /** Markdown body: the agent's prompt. */
  prompt: string;
  /**
   * For an agent from ./.bottle/agents that has the name of a host (or built-in) agent: that agent's file
   * and budget, which stay host policy (see docs/budgets.md).
   */
  shadows?: { file: string; budget?: BudgetSpec };
}

export interface BottleBackendOptions {
  /** Which backend this bottle prefers, if any. */
  prefer?: BackendName;
  /** Workspace mode for the sandbox backend. */
  workspace?: "bind" | "copy";
  /** Extra docker image for the docker backend (built locally). */
  image?: string;
  /** Most processes (threads included) one bottle may have at once; default DEFAULT_PIDS_LIMIT. */
  pids?: number;
}

export interface BottleManifest extends SourceRef {
  name: string;
  extends: string[];
  /** Values are strings; a value starting with `?` is a prompt shown at launch. */
  env: Record<string, string>;
  egress: Egress;
  budget?: BudgetSpec;
  shutdown?: ShutdownPolicy;
  preflight?: PreflightMode;
  backend?: BottleBackendOptions;
}

/** One budget layer found on a manifest, in precedence order, with where it came from. */
export interface BudgetLayer {
  scope: "run" | "agent" | "bottle" | "parent" | "global";
  /** The agent or bottle name the scope refers to (absent for run/global). */
  name?: string;
  file?: string;
  budget: BudgetSpec;
  /**
   * A repository's budget (an agent file under ./.bottle/agents): enforced IN ADDITION to the budget that
   * governs, never instead of it, so a workspace can make a run stricter and never looser.
   */
  also?: true;
}

/** Several bottles (and their `extends` parents) merged in order. */
export interface ComposedBottle {
  /** The bottles the user asked for, in order. */
  requested: string[];
  /** Every bottle involved, parents before children, each once. */
  chain: string[];
  /** For each requested bottle, its ancestors nearest-first (used for the `parent` budget scope). */
  ancestors: Record<string, string[]>;
  env: Record<string, string>;
  /** For each env variable, the bottle file whose value won (for `?prompt` errors and `bottles show`). */
  envOrigin: Record<string, string>;
  routes: Route[];
  log: EgressLogLevel;
  /** Budget layers of the bottles (scope bottle / parent), most specific first. */
  budgetLayers: BudgetLayer[];
  shutdown?: ShutdownPolicy;
  preflight?: PreflightMode;
  backend: BottleBackendOptions;
  /** The manifests involved, for `bottles show`. */
  files: string[];
}

export interface Settings {
  file: string;
  /** true when settings.yml did not exist and defaults apply. */
  defaulted: boolean;
  /** The keys settings.yml sets; every other field holds its default (for saying where a value came from). */
  explicit?: readonly string[];
  budget?: BudgetSpec;
  shutdown: ShutdownPolicy;
  preflight: PreflightMode;
  /** IANA timezone for budget windows; default UTC. */
  timezone: string;
  /** Ledger location: a path to the SQLite file (default $BOTTLE_HOME/bottle.db). */
  ledger?: string;
  backend?: BackendName;
}
