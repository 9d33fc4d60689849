/**
 * What `bottle ps` shows: the active bottles of every backend (from the per-run state files, checked
 * against live processes and containers), as stable JSON or as an aligned table. Pure formatting plus one
 * gathering function; the command itself only prints.
 */
import { DockerBackend } from "./docker/index.ts";
import { SandboxBackend } from "./sandbox/index.ts";
import type { ActiveBottle } from "./types.ts";
import { renderTable } from "../util/table.ts";

export async function listActive(home?: string): Promise<ActiveBottle[]> {
  const opts = home ? { home } : {};
  const all = [...(await new SandboxBackend(opts).list()), ...(await new DockerBackend(opts).list())];
  return all.sort((a, b) => a.createdAt - b.createdAt || a.runId.localeCompare(b.runId));
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export interface PsJson {
  runId: string;
  label: string;
  agent: string;
  provider: string;
  backend: string;
  state: string;
  createdAt: string;
  ageSeconds: number;
}

export function psJson(bottles: ActiveBottle[], now: number): PsJson[] {
  return bottles.map((b) => ({
    runId: b.runId,
    label: b.label,
    agent: b.agent,
    provider: b.provider,
    backend: b.backend,
    state: b.state,
    createdAt: new Date(b.createdAt).toISOString(),
    ageSeconds: Math.max(0, Math.floor((now - b.createdAt) / 1000)),
  }));
}

export function psTable(bottles: ActiveBottle[], now: number): string {
  const head = ["RUN ID", "LABEL", "AGENT", "BACKEND", "AGE", "STATE"];
  const rows = bottles.map((b) => [b.runId, b.label, b.agent, b.backend, formatAge(now - b.createdAt), b.state]);
  return renderTable(head, rows);
}
