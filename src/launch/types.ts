/**
 * The launch contract. Both front doors of `bottle run` (the interactive wizard and the headless CI flags)
 * build a LaunchRequest; `resolveLaunch` turns it into a LaunchPlan (everything resolved, nothing started,
 * so it can be shown as a preflight summary or `--dry-run`); `launch` carries the plan out and reports a
 * RunOutcome. Keeping the three shapes here, apart from the code, lets the wizard and the CLI depend on the
 * contract only.
 */
import type { BackendName, BudgetLayer, ComposedBottle, AgentManifest, BottleManifest, PreflightMode, ProviderName, Route, Settings, ShutdownPolicy } from "../manifest/types.ts";
import type { RunBudgetPlan } from "../enforce/admission.ts";
import type { WorkspaceMode } from "../backends/types.ts";
import type { EffectiveBudget } from "../budget/precedence.ts";
import type { Sourced } from "../budget/policy.ts";

/** The 16 ANSI color names a run can be tagged with. */
export const ANSI_COLORS = [
  "black",
  "red",
  "green",
  "yellow",
  "blue",
  "magenta",
  "cyan",
  "white",
  "bright-black",
  "bright-red",
  "bright-green",
  "bright-yellow",
  "bright-blue",
  "bright-magenta",
  "bright-cyan",
  "bright-white",
] as const;
export type AnsiColor = (typeof ANSI_COLORS)[number];

/** What the user asked for, from flags or from the wizard. Only `agent` and `headless` are required. */
export interface LaunchRequest {
  agent: string;
  /** Bottles to compose, in order; default the agent's `bottle:`. */
  bottles?: string[];
  /** Default the agent name; uniquified against running bottles (`-2`, `-3`, …). */
  label?: string;
  color?: AnsiColor;
  /** Headless: the prompt handed to the agent through its provider's headless arguments. */
  prompt?: string;
  headless: boolean;
  /**
   * `--stdin`: a headless agent reads bottle's own stdin (`git diff | bottle run … --stdin`). Without it a
   * headless agent's stdin is /dev/null, so a pipe that never closes cannot hold the run.
   */
  stdin?: boolean;
  /** `--budget N`: tokens for this run, per provider. */
  budget?: number;
  shutdown?: ShutdownPolicy;
  backend?: BackendName;
  workspace?: WorkspaceMode;
  /** Route the provider's API hosts to the built-in simulator instead of the real API. */
  simulate?: boolean;
  dryRun?: boolean;
  /** Answers to `"?message"` env prompts, by variable name (the wizard fills these). */
  envAnswers?: Record<string, string>;
  /** The project directory; default the current directory. */
  cwd?: string;
  /** false (`--no-prompt-in-report`): the run's provenance record keeps the prompt's hash, not its text. */
  promptInReport?: boolean;
  /** `--trailer`: commits the agent made in the run get a trailer naming the run and its record's hash. */
  trailer?: boolean;
}

/** A `"?message"` env value still to be answered before launch. */
export interface PendingEnvPrompt {
  name: string;
  message: string;
  /** The bottle file that asks for it. */
  file?: string;
  /** Whether the host environment already has a value (used as the headless answer / wizard default). */
  hostHasValue: boolean;
}

/** Everything a launch will do, resolved; nothing has been started. */
export interface LaunchPlan {
  request: LaunchRequest;
  runId: string;
  agent: AgentManifest;
  provider: ProviderName;
  bottle: ComposedBottle;
  /** Egress routes of the run: the provider's own hosts, then the composed bottles' routes. */
  routes: Route[];
  /** Governing budget per provider, with where it was written; empty when nothing limits the run. */
  budgets: EffectiveBudget[];
  budgetLayers: BudgetLayer[];
  shutdown: Sourced<ShutdownPolicy>;
  preflight: Sourced<PreflightMode>;
  backend: { name: BackendName; via: "flag" | "env" | "bottle" | "settings" | "auto"; note?: string };
  workspace: WorkspaceMode;
  /** The bottle's process limit and what enforces it on this host (backends/process-limit.ts). */
  processes: { limit: number; how: string };
  cwd: string;
  /** Final label (uniquified) and the one asked for. */
  label: string;
  requestedLabel: string;
  /** Labels of the bottles the backends list as live at resolve time (the ledger's live runs are added when the label is claimed). */
  labelsInUse?: string[];
  color?: AnsiColor;
  headless: boolean;
  prompt?: string;
  simulated: boolean;
  /** Env of the composed bottles; `"?message"` values are resolved at launch. */
  env: Record<string, string>;
  pendingEnv: PendingEnvPrompt[];
  /** Manifest warnings worth showing (e.g. ignored cwd bottles). */
  warnings: string[];
  /** $BOTTLE_HOME and its settings the plan was resolved against. */
  home: string;
  settings: Settings;
  /** The requested bottles' manifests, in order. */
  bottleManifests: BottleManifest[];
  /** What enforcement is started with. */
  budgetPlan: RunBudgetPlan;
  /** Set by `bottle resume` of an ended run: the run whose home this one continues. */
  resumeOf?: string;
}

/** Why a run stopped early: its governing budget was crossed. */
export interface StoppedBy {
  scope: string;
  policy: ShutdownPolicy;
  used: number;
  limit: number;
  provider?: ProviderName;
}

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface RunOutcome {
  runId: string;
  /** The agent's own exit code (see `exitCodeFor` for what the process exits with). */
  exitCode: number;
  stoppedBy?: StoppedBy;
  /**
   * The budget refusal the run's last model request got, when no policy was applied (the pre-flight gate
   * refused a request that did not fit): the run then exits EXIT_BUDGET_STOPPED too.
   */
  refused?: string;
  usage: UsageTotals;
  /** The command that continues this run; none after a kill, which saves nothing. */
  resumeCommand?: string;
  frozen: boolean;
  /** The run was killed (by its budget or a user): torn down without saving. */
  killed?: boolean;
  /** A user (the dashboard, `bottle stop`), not a budget, froze, killed or stopped the run. */
  stoppedByUser?: "freeze" | "kill" | "stop";
  /** The run's signed provenance record, when it could be written. */
  record?: { path: string; hash: string };
}

export interface LaunchOptions {
  /** Where the agent's terminal goes: our output (headless), all our stdio (headless with --stdin) or a PTY. */
  attach?: "output" | "inherit" | "pty";
  home?: string;
  /** Host env for `"?message"` answers and `auth:` secrets; default process.env. */
  env?: Record<string, string | undefined>;
  /** Host PATH to find the agent CLI in (sandbox backend). */
  hostPath?: string;
}

/** Exit code of a run stopped by a budget (cutoff, freeze or kill): EX_TEMPFAIL, distinct from any agent's own. */
export const EXIT_BUDGET_STOPPED = 75;

/** Seams `resolveLaunch` reads the world through; each defaults to the real thing. */
export interface ResolveDeps {
  /** $BOTTLE_HOME; default bottleHome(). */
  home?: string;
  /** Host env ($BOTTLE_BACKEND, `"?message"` answers); default process.env. */
  env?: Record<string, string | undefined>;
  /** Labels of running or frozen bottles, for uniquifying; default every backend's listing. */
  activeLabels?: () => Promise<string[]>;
  /** Keep this run id instead of making a new one (resuming a frozen run). */
  runId?: string;
  /** Backend availability probe; default asks each backend. */
  probe?: (name: BackendName) => Promise<{ ok: true } | { ok: false; reason: string; fix: string }>;
  /** Makes the docker image ready (build) or checks it could be; default the docker backend's prepareImage. */
  prepareDocker?: (build: boolean) => Promise<void>;
}

/** `describePlan`: the preflight summary as lines for a terminal and as stable JSON (`--dry-run --json`). */
export interface PlanDescription {
  lines: string[];
  json: Record<string, unknown>;
}

/**
 * The three entry points, implemented in src/launch/index.ts:
 *   resolveLaunch(req, deps?) → LaunchPlan   throws typed errors (src/errors.ts), starts nothing
 *   describePlan(plan)        → PlanDescription
 *   launch(plan, opts?)       → RunOutcome   the run, start to teardown
 * Env prompt answers come from `plan.request.envAnswers`, then the host env (headless).
 */
export type ResolveLaunch = (req: LaunchRequest, deps?: ResolveDeps) => Promise<LaunchPlan>;
export type DescribePlan = (plan: LaunchPlan) => PlanDescription;
export type Launch = (plan: LaunchPlan, opts?: LaunchOptions) => Promise<RunOutcome>;
