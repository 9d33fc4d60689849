/**
 * Reading YAML with line numbers. Manifests are markdown files whose YAML frontmatter sits between two `---`
 * lines; settings.yml is plain YAML. Both are parsed with the `yaml` package's Document API and a
 * LineCounter, so every validation error can point at the line of the key at fault in the file the user
 * opens (frontmatter lines are counted from the top of the markdown file, not from the YAML block).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from "yaml";
import type { BottleError, ErrorContext } from "../errors.ts";
import { checkYamlAliases, checkYamlSize, yamlToData } from "./yaml-limits.ts";

export type KeyPath = ReadonlyArray<string | number>;
type ErrorClass = new (message: string, context?: ErrorContext) => BottleError;

/** Parsed YAML plus where each key is. */
export interface YamlSource {
  file: string;
  /** The plain data (`{}` for an empty document). */
  data: unknown;
  /** 1-based line of the key (or, with `value`, the value) at `path`; the nearest parent's line if absent. */
  lineOf(path: KeyPath, at?: "key" | "value"): number;
}

export interface Frontmatter {
  yaml: string;
  /** Lines before the YAML starts (1 for the opening `---`). */
  offset: number;
  body: string;
}

const FENCE = /^---[ \t]*$/;

/** Splits `---\n<yaml>\n---\n<body>`; undefined when the file does not open with frontmatter. */
export function splitFrontmatter(text: string): Frontmatter | undefined {
  const lines = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").split("\n");
  if (!FENCE.test(lines[0] ?? "")) return undefined;
  const close = lines.findIndex((l, i) => i > 0 && FENCE.test(l));
  if (close < 0) return undefined;
  return { yaml: lines.slice(1, close).join("\n"), offset: 1, body: lines.slice(close + 1).join("\n") };
}

function child(node: unknown, seg: string | number): { pair?: Pair; node?: Node } {
  if (isMap(node)) {
    const pair = (node.items as Pair[]).find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
    return pair ? { pair, node: (pair.value ?? undefined) as Node | undefined } : {};
  }
  if (isSeq(node) && typeof seg === "number") return { node: node.items[seg] as Node | undefined };
  return {};
}

function locator(doc: Document, counter: LineCounter, offset: number): YamlSource["lineOf"] {
  const lineAt = (pos: number) => counter.linePos(pos).line + offset;
  const first = offset + 1;
  return (path, at = "key") => {
    let cur: unknown = doc.contents;
    // `owner` is the line that names the current node (its key, or the node itself for list items and
    // the top): a key that is missing is reported there.
    let owner = isMap(cur) || isSeq(cur) ? lineAt((cur as Node).range?.[0] ?? 0) : first;
    let valueLine = owner;
    for (let i = 0; i < path.length; i++) {
      const { pair, node } = child(cur, path[i]!);
      const keyRange = (pair?.key as Node | undefined)?.range;
      const valueRange = node?.range;
      if (!keyRange && !valueRange) return owner;
      valueLine = valueRange ? lineAt(valueRange[0]) : lineAt(keyRange![0]);
      owner = keyRange ? lineAt(keyRange[0]) : valueLine;
      cur = node;
    }
    return at === "key" ? owner : valueLine;
  };
}

/** Parses YAML text; a syntax error becomes `Err` naming the file and line. */
export function parseYaml(text: string, file: string, Err: ErrorClass, offset = 0): YamlSource {
  checkYamlSize(text, file, Err);
  const counter = new LineCounter();
  text = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const line = counter.linePos(err.pos[0]).line + offset;
    const what = err.code === "DUPLICATE_KEY" ? `the key ${JSON.stringify(/^[^:\n]*/.exec(text.slice(err.pos[0]))![0].trim())} appears twice` : err.message.split("\n")[0]!.replace(/ at line \d+, column \d+.*$/, "");
    throw new Err(`invalid YAML: ${what}`, { file, line, fix: err.code === "DUPLICATE_KEY" ? "keep one of the two entries" : "fix the YAML syntax (check indentation, colons and quotes)" });
  }
  checkYamlAliases(doc, file, Err, (pos) => counter.linePos(pos).line + offset);
  return { file, data: yamlToData(doc, file, Err) ?? {}, lineOf: locator(doc, counter, offset) };
}
