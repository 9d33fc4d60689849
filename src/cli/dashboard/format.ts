/**
 * How the dashboard writes numbers, times and budget bars in its narrow cells. Pure.
 */
import { formatAge } from "../../backends/listing.ts";
import type { Gauge } from "../../dashboard/types.ts";

export const thousands = (n: number) => n.toLocaleString("en-US");

/** Token counts that fit a column: 45,000 · 123.4k · 5.00M. */
export function tokens(n: number): string {
  if (n < 100_000) return thousands(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(2)}M`;
  return `${(n / 1_000_000_000).toFixed(2)}B`;
}

export const age = (seconds: number) => formatAge(seconds * 1000);

/** "12:00:03" from an ISO time written in the configured zone. */
export const clock = (iso: string) => iso.slice(11, 19);

/** "2026-11-24 12:00:03" from the same. */
export const stamp = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

/** Whole percent, floored, so a budget shows 100% only when it is used up. */
export const percent = (fraction: number) => `${Math.min(999, Math.floor(fraction * 100))}%`;

/** A bar `width` cells wide: █ for what is used (and held), ░ for what is left. */
export function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return "█".repeat(filled) + "░".repeat(Math.max(0, width - filled));
}

/** green under 75%, yellow under 90%, red from there. */
export function riskTone(fraction: number): "ok" | "warn" | "over" {
  return fraction < 0.75 ? "ok" : fraction < 0.9 ? "warn" : "over";
}

/** "agent claude", "run", "global", "bottle web". */
export const scopeName = (g: Pick<Gauge, "scope" | "name">) => (g.name ? `${g.scope} ${g.name}` : g.scope);

/** "54,000 of 100,000 claude tokens used, 46,000 left, per day (UTC)" (without the provider when it is said already). */
export function gaugeText(g: Gauge, withProvider = true): string {
  const held = g.held > 0 ? ` (+${thousands(g.held)} held)` : "";
  return `${thousands(g.used)}${held} of ${thousands(g.limit)}${withProvider ? ` ${g.provider}` : ""} tokens used, ${thousands(g.remaining)} left, ${g.window}`;
}

/** Byte counts: 512B · 12.3K · 4.5M. */
export function bytes(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}K`;
  return `${(n / 1024 / 1024).toFixed(1)}M`;
}
