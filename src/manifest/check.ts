/**
 * The validation toolkit shared by agents, bottles and settings. A Checker walks plain YAML data and, on the
 * first problem, throws the file's error class (ManifestError or SettingsError) with the file, the line of
 * the key, the key path (`egress.routes[0].host`) and the fix — so each validator reads as a list of rules
 * and every message has the same shape. Pure apart from the throw.
 */
import type { BottleError, ErrorContext } from "../errors.ts";
import { didYouMean } from "../util/did-you-mean.ts";
import type { KeyPath, YamlSource } from "./frontmatter.ts";
import { isValidName, NAME_FIX } from "./names.ts";

type ErrorClass = new (message: string, context?: ErrorContext) => BottleError;

/** `["egress", "routes", 0, "host"]` → `egress.routes[0].host`. */
export function keyName(path: KeyPath): string {
  return path.reduce<string>((acc, s) => (typeof s === "number" ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return "empty";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v);
  return `${typeof v === "number" ? "the number" : "the boolean"} ${String(v)}`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class Checker {
  constructor(
    readonly src: YamlSource,
    readonly Err: ErrorClass,
    /** "agent", "bottle" or "settings file", for messages. */
    readonly kind: string,
    /** How the top level is called in messages. */
    readonly top = `the ${kind}'s frontmatter`,
  ) {}

  fail(path: KeyPath, message: string, fix: string, at: "key" | "value" = "value"): never {
    const key = keyName(path);
    throw new this.Err(message, { file: this.src.file, line: this.src.lineOf(path, at), ...(key ? { key } : {}), fix });
  }

  /** The top level (or a nested value) must be a mapping whose keys are all in `allowed`. */
  mapping(v: unknown, path: KeyPath, allowed: readonly string[]): Record<string, unknown> {
    if (!isRecord(v)) {
      const what = path.length === 0 ? this.top : keyName(path);
      this.fail(path, `${what} must be a mapping of keys, not ${describe(v)}`, `write it as "key: value" lines; allowed keys: ${allowed.join(", ")}`);
    }
    for (const k of Object.keys(v)) {
      if (allowed.includes(k)) continue;
      const guess = didYouMean(k, allowed);
      const what = path.length === 0 ? `${JSON.stringify(k)} in this ${this.kind}` : keyName([...path, k]);
      this.fail([...path, k], `unknown key ${what}`, `${guess ? `did you mean ${guess}? ` : ""}allowed keys: ${allowed.join(", ")}`, "key");
    }
    return v;
  }

  string(v: unknown, path: KeyPath, example: string): string {
    if (v === undefined || v === null) this.fail(path, `${keyName(path)} is missing`, `write it as ${example}`);
    if (typeof v !== "string" || v.trim() === "") this.fail(path, `${keyName(path)} must be a non-empty string, not ${describe(v)}`, `write it as ${example}`);
    return v;
  }

  boolean(v: unknown, path: KeyPath): boolean {
    const k = String(path[path.length - 1]);
    if (typeof v !== "boolean") this.fail(path, `${keyName(path)} must be true or false, not ${describe(v)}`, `write ${k}: true or ${k}: false, without quotes`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: KeyPath, allowed: readonly T[]): T {
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    const guess = typeof v === "string" ? didYouMean(v, allowed) : undefined;
    this.fail(path, `${keyName(path)} must be one of ${allowed.join(", ")}, not ${describe(v)}`, guess ? `did you mean ${guess}?` : `use one of: ${allowed.join(", ")}`);
  }

  /** A kebab-case agent, bottle or skill name. */
  name(v: unknown, path: KeyPath, what: string): string {
    if (typeof v !== "string") this.fail(path, `${keyName(path)} must be a ${what} name, not ${describe(v)}`, NAME_FIX);
    if (!isValidName(v)) this.fail(path, `${keyName(path)} ${JSON.stringify(v)} is not a kebab-case ${what} name`, NAME_FIX);
    return v;
  }

  /** A name or a list of names (`extends: base` or `extends: [base, web]`). */
  names(v: unknown, path: KeyPath, what: string, single: boolean): string[] {
    if (single && typeof v === "string") return [this.name(v, path, what)];
    if (!Array.isArray(v)) this.fail(path, `${keyName(path)} must be a list of ${what} names, not ${describe(v)}`, `write ${keyName(path)}: [first, second]`);
    return v.map((item, i) => this.name(item, [...path, i], what));
  }
}
