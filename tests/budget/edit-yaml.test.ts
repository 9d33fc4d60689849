/**
 * Budget edits keep the user's file: comments, their alignment, flow/block style and unrelated keys survive,
 * and the data afterwards is exactly what was asked for.
 */
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { editFrontmatter, setBudgetInYaml, unsetBudgetInYaml } from "../../src/budget/edit-yaml.ts";

const settings = `# host settings for bottle
budget:              # global host budget, tokens keyed by provider
  claude: 5000000    # five million
  codex: { tokens: 2000000, per: day }
shutdown: cutoff     # cutoff | freeze | kill
preflight: estimate  # off | estimate | provider
`;

describe("setBudgetInYaml", () => {
  test("changing a scalar touches only the number", () => {
    expect(setBudgetInYaml(settings, "claude", { tokens: 7 })).toBe(settings.replace("5000000", "7"));
  });

  test("changing a flow map keeps its window and style", () => {
    expect(setBudgetInYaml(settings, "codex", { tokens: 9 })).toBe(settings.replace("tokens: 2000000", "tokens: 9"));
  });

  test("adding a window turns a scalar into a flow map in place; the comment stays on its line", () => {
    const out = setBudgetInYaml(settings, "claude", { tokens: 3, per: "week" });
    expect(out).toContain("  claude: { tokens: 3, per: week }    # five million\n");
    expect(parse(out).budget.claude).toEqual({ tokens: 3, per: "week" });
  });

  test("a new provider is added under budget with the same indent; every other line unchanged", () => {
    const out = setBudgetInYaml(settings, "pi", { tokens: 3, per: "month" });
    expect(out).toBe(settings.replace("per: day }\n", "per: day }\n  pi: { tokens: 3, per: month }\n"));
  });

  test("per: null removes a block-map window line", () => {
    const text = "budget:\n  claude:\n    tokens: 4 # four\n    per: week # w\nx: 1";
    expect(setBudgetInYaml(text, "claude", { tokens: 9, per: null })).toBe("budget:\n  claude:\n    tokens: 9 # four\nx: 1");
  });

  test("a file without budget (or empty) gains one at the end", () => {
    expect(setBudgetInYaml("", "claude", { tokens: 3 })).toBe("budget:\n  claude: 3\n");
    expect(setBudgetInYaml("# c\nshutdown: kill", "codex", { tokens: 3 })).toBe("# c\nshutdown: kill\nbudget:\n  codex: 3\n");
    expect(parse(setBudgetInYaml("budget:\n# x\nfoo: 1\n", "pi", { tokens: 9 }))).toEqual({ budget: { pi: 9 }, foo: 1 });
  });

  test("a flow-style budget map falls back to a Document edit that still keeps comments", () => {
    const out = setBudgetInYaml("# top\nbudget: { claude: 1 } # inline\n", "codex", { tokens: 2 });
    expect(parse(out)).toEqual({ budget: { claude: 1, codex: 2 } });
    expect(out).toContain("# top");
    expect(out).toContain("# inline");
  });

  test("broken YAML is refused with the file and line", () => {
    expect(() => setBudgetInYaml("a: [1\nb: 2\n", "claude", { tokens: 1 }, "/x/settings.yml")).toThrow(/cannot edit \/x\/settings.yml/);
  });
});

describe("unsetBudgetInYaml", () => {
  test("removes one provider's line and keeps the rest", () => {
    const { text, removed } = unsetBudgetInYaml(settings, "codex");
    expect(removed).toBe(true);
    expect(text).toBe(settings.replace("  codex: { tokens: 2000000, per: day }\n", ""));
  });

  test("removes the budget block once it is empty, and reports nothing to remove after", () => {
    const once = unsetBudgetInYaml(unsetBudgetInYaml(settings, "codex").text, "claude");
    expect(once.text).toBe("# host settings for bottle\nshutdown: cutoff     # cutoff | freeze | kill\npreflight: estimate  # off | estimate | provider\n");
    expect(unsetBudgetInYaml(once.text, "claude")).toEqual({ text: once.text, removed: false });
  });
});

describe("editFrontmatter", () => {
  test("edits the frontmatter and keeps the markdown body byte for byte, including later --- lines", () => {
    const md = "---\nprovider: claude # the CLI\nbottle: web\n---\nReview the code.\n\n---\nnot frontmatter: 1\n";
    const out = editFrontmatter(md, (y) => setBudgetInYaml(y, "claude", { tokens: 5, per: "day" }));
    expect(out).toBe("---\nprovider: claude # the CLI\nbottle: web\nbudget:\n  claude: { tokens: 5, per: day }\n---\nReview the code.\n\n---\nnot frontmatter: 1\n");
  });

  test("a manifest without frontmatter gains one", () => {
    expect(editFrontmatter("Body\n", (y) => setBudgetInYaml(y, "pi", { tokens: 1 }))).toBe("---\nbudget:\n  pi: 1\n---\nBody\n");
  });
});
