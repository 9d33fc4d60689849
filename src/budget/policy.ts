/**
 * Which cutoff policy and which pre-flight mode apply to a run, and where each came from. Shutdown follows
 * `--shutdown` → agent → bottle → settings.yml → `cutoff`; for several composed bottles the first one that
 * sets it wins (composition order). Pre-flight is a host setting a bottle may override. Pure.
 */
import type { PreflightMode, ShutdownPolicy } from "../manifest/types.ts";

export interface Sourced<T> {
  value: T;
  from: "flag" | "agent" | "bottle" | "settings" | "default";
  file?: string;
}

export interface PolicySources {
  flag?: ShutdownPolicy;
  agent?: { file: string; shutdown?: ShutdownPolicy };
  bottles?: ReadonlyArray<{ file: string; shutdown?: ShutdownPolicy; preflight?: PreflightMode }>;
  settings?: { file: string; defaulted?: boolean; shutdown?: ShutdownPolicy; preflight?: PreflightMode };
}

export function shutdownPolicy(src: PolicySources): Sourced<ShutdownPolicy> {
  if (src.flag) return { value: src.flag, from: "flag" };
  if (src.agent?.shutdown) return { value: src.agent.shutdown, from: "agent", file: src.agent.file };
  const b = src.bottles?.find((x) => x.shutdown);
  if (b?.shutdown) return { value: b.shutdown, from: "bottle", file: b.file };
  if (src.settings?.shutdown && !src.settings.defaulted) return { value: src.settings.shutdown, from: "settings", file: src.settings.file };
  return { value: src.settings?.shutdown ?? "cutoff", from: "default" };
}

export function preflightMode(src: PolicySources): Sourced<PreflightMode> {
  const b = src.bottles?.find((x) => x.preflight);
  if (b?.preflight) return { value: b.preflight, from: "bottle", file: b.file };
  if (src.settings?.preflight && !src.settings.defaulted) return { value: src.settings.preflight, from: "settings", file: src.settings.file };
  return { value: src.settings?.preflight ?? "off", from: "default" };
}
