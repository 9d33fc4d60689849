/**
 * Typed errors. Every failure a user can cause is a BottleError subclass that carries enough context
 * (file, line, key, fix) for the single top-level formatter in src/cli/format-error.ts to print one clear
 * sentence. Domain modules throw these; only the CLI edge decides how they look and which exit code they map to.
 */

export interface ErrorContext {
  /** The file the problem is in, if any. */
  file?: string;
  /** 1-based line in that file, if known. */
  line?: number;
  /** The key / field / flag at fault, e.g. `egress.routes[0].host`. */
  key?: string;
  /** What the user should do about it. */
  fix?: string;
}

export class BottleError extends Error {
  /** Process exit code when this error reaches the top level. */
  exitCode = 1;
  readonly context: ErrorContext;
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** Bad command-line usage: unknown command or flag, missing argument. Exit code 2 like most CLIs. */
export class UsageError extends BottleError {
  override exitCode = 2;
}

/** An agent or bottle manifest is invalid. */
export class ManifestError extends BottleError {}

/** settings.yml is invalid. */
export class SettingsError extends BottleError {}

/** Something the user asked for does not exist (agent, bottle, run). */
export class NotFoundError extends BottleError {}

/** The ledger could not be opened or written. Requests fail closed when this happens. */
export class LedgerError extends BottleError {}

/** The proxy could not start or a route is unusable. */
export class ProxyError extends BottleError {}

/** A sandbox backend is missing or failed. */
export class BackendError extends BottleError {}

/** Budget configuration or enforcement problem (not a refusal: refusals are HTTP responses). */
export class BudgetError extends BottleError {}

/** A provenance record could not be made, read, or does not verify. */
export class ProvenanceError extends BottleError {}

export function isBottleError(e: unknown): e is BottleError {
  return e instanceof BottleError;
}
