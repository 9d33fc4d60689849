/**
 * The version string. scripts/build.ts replaces BOTTLE_VERSION at compile time (define), so the compiled binary
 * knows its version without package.json beside it; from source it falls back to package.json.
 */
import pkg from "../package.json" with { type: "json" };

declare const BOTTLE_BUILD_VERSION: string | undefined;

export const VERSION: string =
  typeof BOTTLE_BUILD_VERSION !== "undefined" && BOTTLE_BUILD_VERSION ? BOTTLE_BUILD_VERSION : pkg.version;
