/**
 * How bottle re-invokes itself. The in-bottle bridge is bottle's own hidden `__bridge` command, so a bottle
 * needs no extra host dependency. A compiled binary is its own `process.execPath`; from source, the same
 * command is `bun <repo>/src/cli/main.ts`. The host files that argv needs are listed so backends can make
 * them visible inside (sandbox) or mount them (docker).
 */
import { realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** true inside a `bun build --compile` executable (its modules live in Bun's embedded file system). */
export function isCompiled(modulePath: string = import.meta.path): boolean {
  return modulePath.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/i.test(modulePath);
}

export interface SelfCommand {
  /** argv prefix that runs bottle's CLI: `[binary]` or `[bun, main.ts]`. */
  argv: string[];
  /** Host paths the argv needs to be readable: the binary, or bun plus the source tree. */
  files: string[];
  compiled: boolean;
}

export function selfCommand(): SelfCommand {
  const exe = realpathSync(process.execPath);
  if (isCompiled()) return { argv: [exe], files: [exe], compiled: true };
  const main = resolve(import.meta.dir, "../cli/main.ts");
  const repo = resolve(dirname(main), "../..");
  return { argv: [exe, main], files: [exe, repo], compiled: false };
}

/** The repository root when running from source (tests use it to find cached fixtures). */
export function sourceRoot(): string {
  return resolve(join(import.meta.dir, "../.."));
}
