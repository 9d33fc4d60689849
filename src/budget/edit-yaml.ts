/**
 * Editing budgets in the user's own files. `bottle budget set/unset` change one key in settings.yml or in an
 * agent's or bottle's frontmatter and must leave everything else as the user wrote it: comments, their
 * alignment, key order, quoting, flow or block style. The `yaml` Document API keeps comments but re-flows
 * whitespace when printing, so the edit is made as a text splice at the source ranges the Document reports
 * for the one node that changes. The result is parsed again and compared with the intended data; any shape
 * the splices do not cover falls back to printing the edited Document (comments still kept). Pure.
 */
import { isMap, isScalar, parseDocument, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { checkYamlAliases, checkYamlSize, MAX_YAML_ALIASES, yamlToData } from "../manifest/yaml-limits.ts";
import { BudgetError } from "../errors.ts";
import type { BudgetWindow, ProviderName } from "../manifest/types.ts";

export interface LimitEdit {
  tokens: number;
  /** A window to set; `null` removes the window; undefined keeps whatever window is there. */
  per?: BudgetWindow | null;
}

interface Splice {
  at: number;
  end: number;
  text: string;
}

function parse(text: string, file: string): Document {
  checkYamlSize(text, file, BudgetError);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new BudgetError(`cannot edit ${file}: ${e.message.split("\n")[0]}`, {
      file,
      line: e.linePos?.[0]?.line,
      fix: "fix the YAML syntax first, then run the command again.",
    });
  }
  checkYamlAliases(doc, file, BudgetError, (pos) => text.slice(0, pos).split("\n").length);
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new BudgetError(`cannot edit ${file}: the top level is not a mapping`, { file, fix: "make the file a YAML mapping (key: value lines)." });
  }
  return doc;
}

const lineStart = (t: string, i: number) => t.lastIndexOf("\n", i - 1) + 1;
const lineEnd = (t: string, i: number) => (t.indexOf("\n", i) < 0 ? t.length : t.indexOf("\n", i) + 1);
const render = (tokens: number, per?: BudgetWindow) => (per ? `{ tokens: ${tokens}, per: ${per} }` : String(tokens));
const range = (n: unknown) => (n as Node | null)?.range;

function apply(text: string, splices: Splice[]): string {
  let out = text;
  for (const s of [...splices].sort((a, b) => b.at - a.at)) out = out.slice(0, s.at) + s.text + out.slice(s.end);
  return out;
}

/** Text splices that set budget.<provider> = {tokens, per}, or undefined for shapes left to the fallback. */
function setSplices(text: string, doc: Document, provider: ProviderName, tokens: number, per: BudgetWindow | undefined): Splice[] | undefined {
  const budgetPair = isMap(doc.contents) ? (doc.contents.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === "budget") : undefined;
  if (!budgetPair) {
    const sep = text.length > 0 && !text.endsWith("\n") ? "\n" : "";
    return [{ at: text.length, end: text.length, text: `${sep}budget:\n  ${provider}: ${render(tokens, per)}\n` }];
  }
  const budget = budgetPair.value;
  if (budget === null || (isScalar(budget) && budget.value === null)) {
    const at = lineEnd(text, range(budgetPair.key)![1]);
    return [{ at, end: at, text: `  ${provider}: ${render(tokens, per)}\n` }];
  }
  if (!isMap(budget) || budget.flow) return undefined;
  const items = budget.items as Pair[];
  const pair = items.find((p) => isScalar(p.key) && p.key.value === provider);
  if (!pair) {
    const last = items[items.length - 1]!;
    const k = range(last.key)!;
    const indent = " ".repeat(k[0] - lineStart(text, k[0]));
    const at = lineEnd(text, (range(last.value) ?? k)[1] - 1);
    const nl = at === text.length && !text.endsWith("\n") ? "\n" : "";
    return [{ at, end: at, text: `${nl}${indent}${provider}: ${render(tokens, per)}\n` }];
  }
  const v = pair.value;
  if (isScalar(v) && range(v)) return [{ at: range(v)![0], end: range(v)![1], text: render(tokens, per) }];
  if (!isMap(v)) return undefined;
  const tokensNode = (v as YAMLMap).get("tokens", true);
  const perNode = (v as YAMLMap).get("per", true);
  if (!isScalar(tokensNode) || !range(tokensNode)) return undefined;
  const out: Splice[] = [{ at: range(tokensNode)![0], end: range(tokensNode)![1], text: String(tokens) }];
  if (per && isScalar(perNode) && range(perNode)) out.push({ at: range(perNode)![0], end: range(perNode)![1], text: per });
  else if (per && !perNode && v.flow) out.push({ at: range(tokensNode)![1], end: range(tokensNode)![1], text: `, per: ${per}` });
  else if (!per && perNode && v.flow) return [{ at: range(v)![0], end: range(v)![1], text: `{ tokens: ${tokens} }` }];
  else if (!per && perNode && !v.flow) {
    const perPair = ((v as YAMLMap).items as Pair[]).find((p) => isScalar(p.key) && p.key.value === "per")!;
    const from = lineStart(text, range(perPair.key)![0]);
    out.push({ at: from, end: lineEnd(text, range(perNode)![1] - 1), text: "" });
  } else if (per || perNode) return undefined;
  return out;
}

/** Document-level set that also replaces an empty `budget:`. */
function setPlain(doc: Document, provider: ProviderName, value: unknown): void {
  if (isMap(doc.get("budget", true))) doc.setIn(["budget", provider], value);
  else doc.set("budget", doc.createNode({ [provider]: value }));
}

function sameData(text: string, expected: unknown): boolean {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return false;
  try {
    return Bun.deepEquals(doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {}, expected ?? {});
  } catch {
    return false;
  }
}

/** Sets `budget.<provider>` in a YAML document, keeping the existing window unless told otherwise. */
export function setBudgetInYaml(text: string, provider: ProviderName, edit: LimitEdit, file = "settings.yml"): string {
  const doc = parse(text, file);
  const existing = doc.getIn(["budget", provider], true);
  const oldPer = isMap(existing) ? (existing.get("per") as BudgetWindow | undefined) : undefined;
  const per = edit.per === undefined ? oldPer : edit.per ?? undefined;
  const expected = parse(text, file);
  setPlain(expected, provider, per ? { tokens: edit.tokens, per } : isMap(existing) ? { tokens: edit.tokens } : edit.tokens);
  const wanted = yamlToData(expected, file, BudgetError);
  const splices = setSplices(text, doc, provider, edit.tokens, per);
  if (splices) {
    const spliced = apply(text, splices);
    if (sameData(spliced, wanted)) return spliced;
  }
  // Fallback: edit the Document itself (comments kept, whitespace re-flowed).
  const node = existing;
  if (isMap(node)) {
    node.set("tokens", edit.tokens);
    if (per) node.set("per", per);
    else node.delete("per");
  } else if (per) {
    const created = doc.createNode({ tokens: edit.tokens, per });
    created.flow = true;
    setPlain(doc, provider, created);
  } else setPlain(doc, provider, edit.tokens);
  return doc.toString();
}

/** Removes `budget.<provider>` (and `budget:` itself once empty). */
export function unsetBudgetInYaml(text: string, provider: ProviderName, file = "settings.yml"): { text: string; removed: boolean } {
  const doc = parse(text, file);
  if (!doc.hasIn(["budget", provider])) return { text, removed: false };
  doc.deleteIn(["budget", provider]);
  const budget = doc.get("budget", true);
  const emptied = isMap(budget) && budget.items.length === 0;
  if (emptied) doc.delete("budget");
  const wanted = yamlToData(doc, file, BudgetError);
  // Splice: drop the provider's lines (or the whole budget block once it is empty).
  const original = parse(text, file);
  const bpair = (original.contents as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === "budget") as Pair;
  const bmap = bpair.value as YAMLMap;
  if (!bmap.flow) {
    const pair = (bmap.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === provider)!;
    const from = emptied ? range(bpair.key)![0] : range(pair.key)![0];
    const to = (range(pair.value) ?? range(pair.key))![1];
    const spliced = apply(text, [{ at: lineStart(text, from), end: lineEnd(text, to - 1), text: "" }]);
    if (sameData(spliced, wanted)) return { text: spliced, removed: true };
  }
  return { text: doc.toString(), removed: true };
}

const FRONTMATTER = /^(---[ \t]*\r?\n)([\s\S]*?)(\r?\n---[ \t]*(?:\r?\n|$))/;

/** Applies `edit` to the YAML frontmatter of a markdown manifest; the body is kept byte for byte. */
export function editFrontmatter(markdown: string, edit: (yaml: string) => string): string {
  const m = FRONTMATTER.exec(markdown);
  if (!m) return `---\n${edit("").replace(/\n$/, "")}\n---\n${markdown}`;
  const [whole, open, yaml, close] = m as unknown as [string, string, string, string];
  const edited = edit(yaml.length > 0 ? `${yaml}\n` : "").replace(/\n$/, "");
  return `${open}${edited}${close}${markdown.slice(whole.length)}`;
}
