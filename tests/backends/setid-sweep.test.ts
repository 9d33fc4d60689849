/**
 * The sweep docker bottles get after the run (setid-sweep.ts): set-id bits set since the bottle started
 * are cleared and reported; older ones, symlinks and what they point at are left alone.
 */
import { expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clearNewSetIdBits } from "../../src/backends/setid-sweep.ts";
import { freshWorkspace } from "../helpers/bottles.ts";

const mode = (p: string) => lstatSync(p).mode & 0o7777;

test("clears set-id bits changed since the bottle started, under every directory, and nothing else", () => {
  const ws = freshWorkspace();
  const outside = freshWorkspace();
  const old = join(ws, "old");
  writeFileSync(old, "x", { mode: 0o755 });
  chmodSync(old, 0o4755);
  const target = join(outside, "target");
  writeFileSync(target, "x", { mode: 0o755 });
  const since = Date.now() + 1;
  // File times come from a coarse clock that can lag the real one by a tick.
  Bun.sleepSync(50);
  mkdirSync(join(ws, "deep", "er"), { recursive: true });
  const made = join(ws, "deep", "er", "made");
  writeFileSync(made, "x", { mode: 0o755 });
  chmodSync(made, 0o6755);
  chmodSync(target, 0o4755);
  symlinkSync(target, join(ws, "link"));
  const dir = join(ws, "sgid-dir");
  mkdirSync(dir);
  chmodSync(dir, 0o2775);
  expect(clearNewSetIdBits([ws], since)).toEqual([{ path: made, was: "6755" }]);
  expect(mode(made)).toBe(0o755);
  expect(mode(old)).toBe(0o4755);
  expect(mode(target)).toBe(0o4755);
  expect(mode(dir)).toBe(0o2775);
});
