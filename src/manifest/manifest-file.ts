/**
 * What agents and bottles have in common as files: markdown with YAML frontmatter, whose name comes from
 * the file name (`agents/code-review.md` is the agent `code-review`). A `name:` key is optional; when
 * present it must equal the file name, so renaming a file can never leave two names for one manifest.
 * Choosing the file name as the source of truth also means a name is checked before anything is parsed.
 */
import { basename } from "node:path";
import { ManifestError } from "../errors.ts";
import { Checker } from "./check.ts";
import { parseYaml, splitFrontmatter } from "./frontmatter.ts";
import { isValidName, NAME_FIX } from "./names.ts";

export interface ManifestText {
  /** Path shown in messages (a real path, or `embedded:agents/claude.md`). */
  file: string;
  text: string;
}

export interface ParsedManifest {
  name: string;
  checker: Checker;
  data: Record<string, unknown>;
  body: string;
}

export function nameFromFile(file: string): string {
  return basename(file).replace(/\.md$/, "");
}

export function parseManifest(m: ManifestText, kind: "agent" | "bottle", allowed: readonly string[]): ParsedManifest {
  const name = nameFromFile(m.file);
  if (!isValidName(name)) {
    throw new ManifestError(`${kind} name ${JSON.stringify(name)} (from the file name) is not kebab-case`, { file: m.file, key: "name", fix: `rename the file: ${NAME_FIX}` });
  }
  const fm = splitFrontmatter(m.text);
  if (!fm && /^\uFEFF?---[ \t]*\r?$/m.test(m.text.split("\n", 1)[0]!)) {
    throw new ManifestError(`the ${kind}'s frontmatter is never closed`, { file: m.file, line: 1, fix: 'end the frontmatter with a line "---" after the last key' });
  }
  if (!fm) {
    throw new ManifestError(`the ${kind} has no YAML frontmatter`, {
      file: m.file,
      line: 1,
      fix: `start the file with a line "---", the ${kind}'s keys, then another "---" line${kind === "agent" ? " (an agent needs at least provider:)" : ""}`,
    });
  }
  const src = parseYaml(fm.yaml, m.file, ManifestError, fm.offset);
  const checker = new Checker(src, ManifestError, kind);
  const data = checker.mapping(src.data, [], allowed);
  if (data.name !== undefined) {
    const declared = checker.name(data.name, ["name"], kind);
    if (declared !== name) {
      checker.fail(["name"], `name ${JSON.stringify(declared)} does not match the file name ${JSON.stringify(`${name}.md`)}`, `rename the file to ${declared}.md, or set name: ${name} (the file name is the ${kind}'s name)`);
    }
  }
  return { name, checker, data, body: fm.body };
}
