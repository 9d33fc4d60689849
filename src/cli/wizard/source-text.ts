/**
 * Where a manifest came from, short enough for a list row: "built in" for the embedded defaults, then
 * relative to the project when the file is in it, `~/…` under the home directory, absolute otherwise. Rows
 * stay narrow and still say exactly which file is meant (a cwd agent shadowing a home one is visible).
 */
import { relative, sep } from "node:path";
import type { SourceRef } from "../../manifest/types.ts";

function inside(dir: string, file: string): string | undefined {
  if (dir === "") return undefined;
  const r = relative(dir, file);
  return r !== "" && !r.startsWith("..") && !r.startsWith(sep) ? r : undefined;
}

export function sourceText(ref: SourceRef, cwd: string, home: string): string {
  if (ref.source === "embedded") return "built in";
  const inCwd = inside(cwd, ref.file);
  if (inCwd !== undefined) return `./${inCwd}`;
  const inHome = inside(home, ref.file);
  return inHome !== undefined ? `~/${inHome}` : ref.file;
}
