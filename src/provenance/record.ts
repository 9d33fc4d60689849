/**
 * The shape of a provenance record: what a reviewer is told about one run — what the agent was, what it
 * was allowed to reach and what it reached, what it spent and whether a budget stopped it, and what it did
 * to the workspace. The record is split the way it is made: the opening (known when the run starts, from
 * its plan), the ledger sections (re-derivable from the ledger, which is how `report verify` checks them)
 * and the closing (the run's end and the workspace afterwards). A signed record wraps the record with an
 * Ed25519 signature over its canonical JSON (canonical.ts). A `bottle proxy` session is a run too, but
 * bottle neither starts its client nor gives it a workspace: its record has `backend: "proxy"`, no agent
 * and no workspace (null), and no bottles (docs/provenance.md). Types only.
 */

export const RECORD_SCHEMA = "bottle.provenance/v1";

export interface GitState {
  commit: string | null;
  /** The tree of `commit` (unchanged when a commit's message is amended, e.g. by `--trailer`). */
  tree: string | null;
  branch: string | null;
  dirty: boolean;
}

export interface DiffStat {
  files: number;
  insertions: number;
  deletions: number;
  /** Per file; binary files count 0 lines. */
  changes: Array<{ path: string; insertions: number; deletions: number }>;
}

export interface WorkspaceFacts {
  path: string;
  mode: "bind" | "copy";
  /** null: the workspace is not a git repository. */
  git: { start: GitState; end: GitState | null; diff: DiffStat | null; note?: string } | null;
}

export interface RouteFacts {
  host: string;
  mitm: boolean;
  /** "simulator" for bottle's simulated provider. */
  upstream: string | null;
  /** The host environment variable whose value the proxy injects (the name only). */
  secret: string | null;
  /** Paths the route lets through without metering (`unmetered:`), when it has any. */
  unmetered?: string[];
}

export interface AgentFacts {
  name: string;
  provider: string;
  source: string;
  file: string;
  manifestSha256: string;
  cli: { binary: string; package: string; version: string | null };
}

/** `run.backend` of a `bottle proxy` session: no bottle, the proxy alone. */
export const PROXY_SESSION = "proxy";

/** Known when the run starts: written beside the run's state, then folded into the record at its end. */
export interface RecordOpening {
  /** backend: the bottle's backend (sandbox, docker), or PROXY_SESSION. */
  run: { id: string; label: string; host: string; backend: string; headless: boolean; simulated: boolean; resumeOf: string | null };
  /** null: a `bottle proxy` session, whose client bottle did not start and does not know. */
  agent: AgentFacts | null;
  prompt: { sha256: string | null; text: string | null; included: boolean };
  bottles: {
    requested: string[];
    chain: string[];
    /** canonicalHash of the composed policy: routes, env, log level, budgets, shutdown, preflight, backend. */
    policySha256: string;
    routes: RouteFacts[];
    /** Names of the secrets the run could be given (never values): route keys and answered env prompts. */
    secrets: Array<{ name: string; via: "route-auth" | "env-prompt"; host?: string }>;
    egressLog: string;
  };
  budgets: {
    governing: Array<{ provider: string; tokens: number; per: string | null; scope: string; name: string | null; file: string | null }>;
    shutdown: { policy: string; from: string; file: string | null };
    preflight: { mode: string; from: string; file: string | null };
  };
  /** null: a `bottle proxy` session, which gives its clients no workspace. */
  workspaceStart: { path: string; mode: "bind" | "copy"; git: GitState | null; gitDirs: { gitDir: string; commonDir: string } | null } | null;
}

export interface ModelUsage {
  provider: string;
  model: string;
  format: string;
  requests: number;
  countCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  estimated: number;
  errored: number;
}

export interface EnforcementFacts {
  id: number;
  at: string;
  kind: string;
  trigger: string;
  scope: string | null;
  provider: string | null;
  used: number | null;
  limit: number | null;
  detail: string | null;
}

export interface HostFacts {
  host: string;
  requests: number;
  bytesUp: number;
  bytesDown: number;
  /** Count per status class ("2xx", "4xx", …; "000" when there was no HTTP status). */
  statuses: Record<string, number>;
  /** Count per proxy decision (mitm, tunnel, deny, refuse, error). */
  decisions: Record<string, number>;
}

export interface DenialFacts {
  host: string;
  method: string;
  path: string;
  decision: string;
  status: number;
  reason: string | null;
  count: number;
}

/** Re-derivable from the ledger rows the record names (`ledger`). */
export interface LedgerSections {
  models: ModelUsage[];
  usage: Omit<ModelUsage, "provider" | "model" | "format">;
  enforcement: EnforcementFacts[];
  egress: { hosts: HostFacts[]; denials: DenialFacts[] };
  /** The rows covered: each table's rows of this run with ids up to these (0: none). */
  ledger: { usageEventsUpTo: number; auditUpTo: number; actionsUpTo: number; usageEvents: number; auditRecords: number; actions: number };
}

export interface ProvenanceRecord extends Omit<RecordOpening, "run" | "workspaceStart">, LedgerSections {
  schema: typeof RECORD_SCHEMA;
  run: RecordOpening["run"] & {
    startedAt: string;
    endedAt: string | null;
    state: string;
    exitCode: number | null;
    stopReason: string | null;
    /** run-end: written by the run itself; next-start: the run's process died and a later start wrote it. */
    recordedBy: "run-end" | "next-start";
    recordedAt: string;
  };
  /** null: a `bottle proxy` session (no workspace). */
  workspace: WorkspaceFacts | null;
}

export interface SignedRecord {
  record: ProvenanceRecord;
  signature: { alg: "ed25519"; keyId: string; publicKey: string; value: string };
}
