/**
 * The one naming rule for agents, bottles and skills (DESIGN §2): kebab-case, `[a-z][a-z0-9-]*`. Names
 * become file and directory names and end up in argv, so a name like `foo; rm -rf /`, `../escape`, `Foo`
 * or `-x` must die at load as a typed error, never reach a path or a process. Pure.
 */

export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const NAME_MAX = 64;

export function isValidName(name: unknown): name is string {
  return typeof name === "string" && name.length <= NAME_MAX && NAME_PATTERN.test(name);
}

/** The fix text every name error ends with. */
export const NAME_FIX = "use lowercase letters, digits and '-', starting with a letter (e.g. code-review)";
