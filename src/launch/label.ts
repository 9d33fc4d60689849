/**
 * Run labels are how people tell bottles apart in `bottle ps` and the dashboard, so two live bottles never
 * share one: the wanted label (default the agent name) gets `-2`, `-3`, … when a running or frozen bottle
 * already has it. Pure; the caller passes the labels in use.
 */

export function uniqueLabel(wanted: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(wanted)) return wanted;
  for (let n = 2; ; n++) {
    const candidate = `${wanted}-${n}`;
    if (!used.has(candidate)) return candidate;
  }
}
