/**
 * Cancellation. clack returns a symbol when the user presses Ctrl-C or Esc; rather than checking it after
 * every step, each step passes its answer through `answered`, which throws WizardCancelled, and runWizard
 * turns that into one "cancelled" line and a null result. Nothing has been started before the final
 * confirm, so there is nothing to clean up.
 */
import { isCancel } from "@clack/prompts";

export class WizardCancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "WizardCancelled";
  }
}

export function answered<T>(value: T): Exclude<T, symbol> {
  if (isCancel(value)) throw new WizardCancelled();
  return value as Exclude<T, symbol>;
}
