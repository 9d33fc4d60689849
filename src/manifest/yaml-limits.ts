/**
 * Limits on every YAML file bottle reads (settings.yml, agents, bottles). A manifest can come from a
 * repository someone else wrote, or from an agent that wrote into ./.bottle/agents, so reading one must
 * not cost unbounded memory or time: a file over MAX_YAML_BYTES is refused before it is read (its size is
 * taken from the open file, not from a path that could change), and a document with more than
 * MAX_YAML_ALIASES aliases is refused before it is expanded; a document whose few aliases would expand
 * into a huge value (a "billion laughs" bomb nests them) is refused while it is expanded (the yaml
 * package's own expansion count, with the same limit). Each error names the file and the limit.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { visit, type Document } from "yaml";
import type { BottleError, ErrorContext } from "../errors.ts";

export const MAX_YAML_BYTES = 1024 * 1024;
export const MAX_YAML_ALIASES = 50;
const LIMIT_TEXT = "1 MiB";

type ErrorClass = new (message: string, context?: ErrorContext) => BottleError;

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function tooBig(file: string, bytes: number, Err: ErrorClass): BottleError {
  return new Err(`the file is ${sizeText(bytes)}; bottle reads YAML files of at most ${LIMIT_TEXT}`, { file, fix: `shorten it below ${LIMIT_TEXT} (an agent's prompt belongs in a skill if it is long), or remove the file` });
}

/**
 * Reads a YAML or manifest file, refusing one over the size limit without reading it. It is opened
 * non-blocking: a fifo named `agents/x.md` would otherwise block the open until someone writes to it, and
 * every command that lists agents (the dashboard among them) would hang; it is refused as not a file.
 */
export function readYamlFile(file: string, Err: ErrorClass): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "it does not exist (a dangling symlink?)" : (e as Error).message;
    throw new Err(`cannot read the file: ${why}`, { file, fix: "make it readable, or remove it" });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Err("this is not a regular file", { file, fix: "remove it, or replace it with a file" });
    if (st.size > MAX_YAML_BYTES) throw tooBig(file, st.size, Err);
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_YAML_BYTES) throw tooBig(file, n, Err);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Text that did not come through readYamlFile (embedded manifests, edits) gets the same size limit. */
export function checkYamlSize(text: string, file: string, Err: ErrorClass): void {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_YAML_BYTES) throw tooBig(file, bytes, Err);
}

function aliasError(file: string, Err: ErrorClass, line?: number): BottleError {
  return new Err(`the YAML uses more than ${MAX_YAML_ALIASES} aliases (*name) or expands them beyond that, the limit bottle reads; this is how a YAML bomb makes a small file huge`, {
    file,
    ...(line !== undefined ? { line } : {}),
    fix: "write the values out instead of repeating aliases, or remove the file",
  });
}

/** The document's plain data, refusing alias expansion beyond the limit with an error naming the file. */
export function yamlToData(doc: Document, file: string, Err: ErrorClass): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) throw aliasError(file, Err);
    throw e;
  }
}

/** Refuses a parsed document with more aliases than the limit, before anything expands them. */
export function checkYamlAliases(doc: Document, file: string, Err: ErrorClass, lineOf: (pos: number) => number): void {
  let count = 0;
  let first: number | undefined;
  visit(doc, {
    Alias(_, node) {
      count++;
      if (count > MAX_YAML_ALIASES) {
        first = node.range?.[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (count > MAX_YAML_ALIASES) throw aliasError(file, Err, first !== undefined ? lineOf(first) : undefined);
}
