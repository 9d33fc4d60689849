/**
 * Enforcement's RunControl seam (src/enforce/run-control.ts) carried out by a real backend: the run's
 * bottle handle is found in its state file, freeze is the backend's freeze (pause, save, stop; resumable
 * with `bottle resume`), kill is teardown without saving, and stop (`bottle stop`) is the same teardown.
 */
import { BackendError } from "../errors.ts";
import type { RunControl } from "../enforce/run-control.ts";
import { log } from "../log.ts";
import { readRecord } from "./state.ts";
import type { Backend, BottleHandle } from "./types.ts";

export class BackendRunControl implements RunControl {
  constructor(
    private readonly backend: Backend,
    private readonly home?: string,
  ) {}

  private handle(runId: string): BottleHandle {
    const rec = readRecord(runId, this.home);
    if (!rec) throw new BackendError(`run ${runId} has no bottle`, { fix: "check `bottle ps`: the run may have ended." });
    return rec.handle;
  }

  async freeze(runId: string, reason: string): Promise<void> {
    log.info(`freezing run ${runId}: ${reason}`);
    await this.backend.freeze(this.handle(runId));
  }

  async kill(runId: string, reason: string): Promise<void> {
    log.info(`killing run ${runId}: ${reason}`);
    await this.backend.teardown(this.handle(runId));
  }

  /** Teardown stops every process with SIGTERM first, then SIGKILL (see Backend.stop). */
  async stop(runId: string, reason: string): Promise<void> {
    log.info(`stopping run ${runId}: ${reason}`);
    await this.backend.teardown(this.handle(runId));
  }
}
