/**
 * Which cutoff policy and which pre-flight mode apply to a run, and where each came from. Shutdown follows
 * `--shutdown` → agent → bottle → settings.yml → `cutoff`; for several composed bottles the first one that
 * sets it wins (composition order). Pre-flight is a host setting a bottle may override. Pure.
 */
import type { PreflightMode, Settings, ShutdownPolicy } from "../manifest/types.ts";

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

/** The settings as a policy source: a value counts as set in settings.yml only when the file sets that key. */
export function settingsSource(s: Pick<Settings, "file" | "defaulted" | "explicit" | "shutdown" | "preflight">): NonNullable<PolicySources["settings"]> {
  const set = (k: "shutdown" | "preflight") => !s.defaulted && (s.explicit === undefined || s.explicit.includes(k));
  return { file: s.file, defaulted: s.defaulted, ...(set("shutdown") ? { shutdown: s.shutdown } : {}), ...(set("preflight") ? { preflight: s.preflight } : {}) };
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
