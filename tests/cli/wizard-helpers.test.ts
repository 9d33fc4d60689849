/**
 * The wizard's small pure decisions: which asked-for values are masked, how a manifest's source is shown
 * in a list row, which labels are accepted, and the default color (stable per label, never one that
 * disappears on a dark or light theme).
 */
import { describe, expect, test } from "bun:test";
import { labelProblem, defaultColor } from "../../src/cli/wizard/steps/identity.ts";
import { looksSecret } from "../../src/cli/wizard/secret.ts";
import { sourceText } from "../../src/cli/wizard/source-text.ts";
import { paint, sgrCode } from "../../src/cli/wizard/paint.ts";
import { ANSI_COLORS } from "../../src/launch/types.ts";

describe("wizard helpers", () => {
  test("secrets are recognised by the variable name or the question", () => {
    for (const name of ["GH_TOKEN", "OPENAI_API_KEY", "DB_PASSWORD", "CLIENT_SECRET", "SSH_PRIVATE_KEY", "BASIC_AUTH"]) expect(looksSecret(name, "value")).toBe(true);
    expect(looksSecret("REGISTRY", "Your registry token")).toBe(true);
    expect(looksSecret("LOGIN", "Password for the staging box")).toBe(true);
    expect(looksSecret("REVIEW_STYLE", "Review style")).toBe(false);
    expect(looksSecret("GIT_AUTHOR_EMAIL", "Email for commits")).toBe(true); // AUTH… errs on the masked side
    expect(looksSecret("REGION", "Which region?")).toBe(false);
  });

  test("sources: built in, relative to the project, under ~, or absolute", () => {
    expect(sourceText({ file: "embedded:agents/claude.md", source: "embedded" }, "/p", "/h")).toBe("built in");
    expect(sourceText({ file: "/p/.bottle/agents/a.md", source: "cwd" }, "/p", "/h")).toBe("./.bottle/agents/a.md");
    expect(sourceText({ file: "/h/.bottle/agents/a.md", source: "home" }, "/p", "/h")).toBe("~/.bottle/agents/a.md");
    expect(sourceText({ file: "/srv/bottle/agents/a.md", source: "home" }, "/p", "/h")).toBe("/srv/bottle/agents/a.md");
    expect(sourceText({ file: "/pp/a.md", source: "home" }, "/p", "/h")).toBe("/pp/a.md");
  });

  test("labels: empty means the default; otherwise letters, digits, dot, dash, underscore", () => {
    expect(labelProblem("")).toBeUndefined();
    expect(labelProblem(undefined)).toBeUndefined();
    expect(labelProblem("night-review.2")).toBeUndefined();
    expect(labelProblem("two words")).toContain("letters, digits");
    expect(labelProblem("-x")).toContain("starting with a letter or digit");
    expect(labelProblem("a;rm")).toBeDefined();
    expect(labelProblem("a".repeat(63))).toBeUndefined();
    expect(labelProblem("a".repeat(64))).toContain("up to 63"); // the launcher's own rule
  });

  test("the default color is stable per label and never black, white or their bright forms", () => {
    const seen = new Set<string>();
    for (const label of ["claude", "codex", "pi", "reviewer", "a", "night-review", "x-2", "x-3"]) {
      expect(defaultColor(label)).toBe(defaultColor(label));
      expect(["black", "white", "bright-black", "bright-white"]).not.toContain(defaultColor(label));
      seen.add(defaultColor(label));
    }
    expect(seen.size).toBeGreaterThan(2);
  });

  test("each color name paints with its standard SGR code", () => {
    expect(ANSI_COLORS.map(sgrCode)).toEqual([30, 31, 32, 33, 34, 35, 36, 37, 90, 91, 92, 93, 94, 95, 96, 97]);
    expect(paint("x", "bright-red", true)).toBe("\x1b[91mx\x1b[39m");
    expect(paint("x", "bright-red", false)).toBe("x");
  });
});
