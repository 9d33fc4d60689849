import { expect, test } from "bun:test";
import { didYouMean, editDistance } from "../../src/util/did-you-mean.ts";

test("edit distance counts a swap of neighbouring letters as one edit", () => {
  expect(editDistance("show", "show")).toBe(0);
  expect(editDistance("shwo", "show")).toBe(1);
  expect(editDistance("bsae", "base")).toBe(1);
  expect(editDistance("kitten", "sitting")).toBe(3);
  expect(editDistance("", "abc")).toBe(3);
  expect(editDistance("abc", "")).toBe(3);
});

test("suggestions: typos and swaps within a third of the word, nothing for unrelated words", () => {
  expect(didYouMean("shwo", ["show", "list"])).toBe("show");
  expect(didYouMean("agnets", ["agents", "bottles"])).toBe("agents");
  expect(didYouMean("bottel", ["name", "provider", "bottle"])).toBe("bottle");
  expect(didYouMean("jsno", ["json", "help"])).toBe("json");
  expect(didYouMean("zzz", ["json", "help"])).toBeUndefined();
  expect(didYouMean("Freez", ["cutoff", "freeze", "kill"])).toBe("freeze");
  // Ties go to the alphabetically first candidate, so the output is stable.
  expect(didYouMean("ab", ["ac", "aa"])).toBe("aa");
});
