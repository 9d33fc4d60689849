/**
 * Finding a provider's CLI on the host for the sandbox backend, which runs the host's own install. The
 * sandbox hides $HOME and /tmp, where user-level installs live (`~/.local/bin`, `~/.npm-global`), so
 * besides the executable this returns the directories the bottle must see read-only: the PATH entry that
 * holds it, and the install it resolves to (the enclosing node_modules for npm packages, whose
 * dependencies sit beside it). Both are real paths: a PATH entry reached through a symlinked directory
 * cannot be a bind target (bubblewrap will not create a mount point through a symlink), so the bottle gets
 * the real directory, and `binDir` is put first on its PATH.
 */
import { realpathSync } from "node:fs";
import { dirname, sep } from "node:path";
import { BackendError } from "../errors.ts";
import type { Provider } from "./types.ts";

export interface HostBinary {
  /** The executable as found on PATH. */
  path: string;
  /** Host directories to expose read-only inside the bottle. */
  expose: string[];
  /** The real directory holding the executable (first on the bottle's PATH). */
  binDir: string;
}

function installRoot(real: string): string {
  const parts = real.split(sep);
  const i = parts.lastIndexOf("node_modules");
  return i > 0 ? parts.slice(0, i + 1).join(sep) : dirname(real);
}

export function hostBinary(provider: Provider, PATH: string = process.env.PATH ?? ""): HostBinary {
  const found = Bun.which(provider.binary, { PATH });
  if (!found) {
    throw new BackendError(`${provider.binary} (the ${provider.name} CLI) is not on PATH`, {
      key: "provider",
      fix: `install it on the host: npm install -g ${provider.npm.package}, or use --backend docker`,
    });
  }
  const real = realpathSync(found);
  const binDir = realpathSync(dirname(found));
  return { path: found, binDir, expose: [...new Set([binDir, installRoot(real)])] };
}
