/**
 * The version, commit and target of this build. scripts/build.ts defines BOTTLE_BUILD_* at compile time, so
 * the compiled binary knows them without package.json or git beside it (a user reporting a bug pastes
 * `bottle --version` and we know exactly what they run); from source the version comes from package.json,
 * the commit is "source" and the target is the host's.
 */
import pkg from "../package.json" with { type: "json" };

declare const BOTTLE_BUILD_VERSION: string | undefined;
declare const BOTTLE_BUILD_COMMIT: string | undefined;
declare const BOTTLE_BUILD_TARGET: string | undefined;

export const VERSION: string =
  typeof BOTTLE_BUILD_VERSION !== "undefined" && BOTTLE_BUILD_VERSION ? BOTTLE_BUILD_VERSION : pkg.version;
export const COMMIT: string = typeof BOTTLE_BUILD_COMMIT !== "undefined" && BOTTLE_BUILD_COMMIT ? BOTTLE_BUILD_COMMIT : "source";
export const TARGET: string =
  typeof BOTTLE_BUILD_TARGET !== "undefined" && BOTTLE_BUILD_TARGET ? BOTTLE_BUILD_TARGET : `${process.platform}-${process.arch}`;

/** What `bottle --version` prints: the version first (scripts read the first word), then commit and target. */
export function versionLine(): string {
  return `${VERSION} (commit ${COMMIT}, ${TARGET})`;
}
