/**
 * The launcher: `bottle run` (headless and the wizard) and `bottle resume` go through these. See types.ts
 * for the contract.
 */
export { resolveLaunch } from "./resolve.ts";
export { describePlan } from "./describe.ts";
export { launch } from "./run.ts";
export { resumeRun, type ResumeRequest } from "./resume.ts";
export { exitCodeFor, stopLine, usageLine, userStopLine } from "./outcome.ts";
export * from "./types.ts";
