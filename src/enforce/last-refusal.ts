/**
 * Whether a run ended on a budget refusal. The pre-flight gate refuses a request that does not fit while
 * the budget is not yet used up, so no cutoff is recorded, and the agent then exits with its own error
 * code (Claude Code: 1). CI must still be able to tell "out of budget" from "the agent failed": when the
 * last model request of a run was refused by its budget, the run exits EXIT_BUDGET_STOPPED with that
 * refusal as its one-line reason. In memory, in the process that owns the run (where its proxy is).
 */
export class LastRefusal {
  private message: string | undefined;

  /** A request was refused by a budget; `message` is what the agent was told. */
  refused(message: string): void {
    this.message = message;
  }

  /** A model request went through: an earlier refusal did not end the run. */
  admitted(): void {
    this.message = undefined;
  }

  /** The refusal the run ended on, if its last model request was refused. */
  get last(): string | undefined {
    return this.message;
  }
}
