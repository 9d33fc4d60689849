/**
 * Skill names become directory names (`$BOTTLE_HOME/skills/<name>` → `<home>/<skillsDir>/<name>`), so they
 * are checked against the kebab-case rule again right here, before any file-system or process call sees
 * them, even though the manifest loader checks them too: a name like `x; rm -rf ~` or `../../etc` must
 * die as a typed error, never as a path.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ManifestError, NotFoundError } from "../errors.ts";
import { isValidName, NAME_FIX } from "../manifest/names.ts";
import { homePaths } from "../paths.ts";

export interface SkillRef {
  name: string;
  /** The agent file that asked for it, for the error message. */
  file?: string;
  index: number;
}

/** Throws on the first invalid name; pure (no I/O). */
export function checkSkillNames(names: readonly string[], file?: string): void {
  names.forEach((name, index) => {
    if (!isValidName(name)) {
      throw new ManifestError(`skill name ${JSON.stringify(name)} is not kebab-case`, {
        ...(file ? { file } : {}),
        key: `skills[${index}]`,
        fix: NAME_FIX,
      });
    }
  });
}

/** The host directory of a (valid) skill; it must exist. */
export function skillSource(name: string, home?: string, file?: string): string {
  checkSkillNames([name], file);
  const dir = join(homePaths(home).skills, name);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new NotFoundError(`skill ${name} not found in ${homePaths(home).skills}`, {
      ...(file ? { file } : {}),
      key: "skills",
      fix: `create ${dir}/SKILL.md, or remove ${name} from the agent's skills`,
    });
  }
  return dir;
}
