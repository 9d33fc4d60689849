/**
 * Golden error messages: every invalid fixture under tests/fixtures/manifest/invalid fails with exactly the
 * sentence in errors.json (file, line, key and fix, as the top-level formatter prints it), and every golden
 * entry has its fixture. Paths are relative to the fixture folder so the text is stable.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatError } from "../../src/cli/format-error.ts";
import { ManifestError, SettingsError } from "../../src/errors.ts";
import { parseAgent, parseBottle, parseSettings } from "../../src/manifest/index.ts";

const DIR = join(import.meta.dir, "../fixtures/manifest/invalid");
const golden = JSON.parse(readFileSync(join(DIR, "errors.json"), "utf8")) as Record<string, string>;
const kinds = ["agents", "bottles", "settings"] as const;
const fixtures = kinds.flatMap((k) => readdirSync(join(DIR, k)).sort().map((f) => `${k}/${f}`));

function load(file: string): unknown {
  const text = readFileSync(join(DIR, file), "utf8");
  if (file.startsWith("agents/")) return parseAgent({ file, text }, "home");
  if (file.startsWith("bottles/")) return parseBottle({ file, text }, "home");
  return parseSettings(text, file, "/h");
}

test("every fixture has a golden message and every golden message a fixture", () => {
  expect(Object.keys(golden).sort()).toEqual([...fixtures].sort());
});

describe("each invalid fixture fails with the message it should give", () => {
  for (const file of fixtures) {
    test(file, () => {
      let err: unknown;
      try {
        load(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(file.startsWith("settings/") ? SettingsError : ManifestError);
      const e = err as ManifestError;
      expect(e.context.file).toBe(file);
      expect(e.context.fix).toBeTruthy();
      // Every error names a line except a bad file name, which has no line to point at.
      if (!file.endsWith("Foo.md")) expect(e.context.line).toBeGreaterThan(0);
      expect(formatError(e).text).toBe(golden[file]!);
      expect(formatError(e).exitCode).toBe(1);
    });
  }
});

describe("names that would be dangerous as paths or argv are rejected at load", () => {
  const hostile = ["foo; rm -rf /", "../escape", "Foo", "-x", "a b", "$(id)", "x".repeat(65)];
  for (const name of hostile) {
    test(`skill ${JSON.stringify(name.slice(0, 20))}`, () => {
      const text = `---\nprovider: claude\nskills:\n  - ${JSON.stringify(name)}\n---\n`;
      expect(() => parseAgent({ file: "/h/agents/a.md", text }, "home")).toThrow(/is not a kebab-case skill name/);
    });
    test(`default bottle and extends ${JSON.stringify(name.slice(0, 20))}`, () => {
      expect(() => parseAgent({ file: "/h/agents/a.md", text: `---\nprovider: pi\nbottle: ${JSON.stringify(name)}\n---\n` }, "home")).toThrow(ManifestError);
      expect(() => parseBottle({ file: "/h/bottles/b.md", text: `---\nextends: [${JSON.stringify(name)}]\n---\n` }, "home")).toThrow(/is not a kebab-case bottle name/);
    });
  }
  test("a file whose name is not kebab-case is rejected before it is parsed", () => {
    expect(() => parseBottle({ file: "/h/bottles/-x.md", text: "---\n---\n" }, "home")).toThrow('bottle name "-x" (from the file name) is not kebab-case');
    expect(() => parseAgent({ file: "/h/agents/My Agent.md", text: "not even yaml: [" }, "home")).toThrow(/is not kebab-case/);
  });
});

describe("file encodings", () => {
  test("Windows line endings and a byte-order mark read like plain files, with the same line numbers", () => {
    const a = parseAgent({ file: "/h/agents/x.md", text: "\uFEFF---\r\nprovider: claude\r\nbottle: web\r\n---\r\nHello\r\n" }, "home");
    expect(a).toMatchObject({ provider: "claude", bottle: "web", prompt: "Hello" });
    expect(() => parseAgent({ file: "/h/agents/x.md", text: "---\r\nprovider: claude\r\nshutdown: nope\r\n---\r\n" }, "home")).toThrow(
      expect.objectContaining({ context: expect.objectContaining({ line: 3, key: "shutdown" }) }),
    );
  });
});
