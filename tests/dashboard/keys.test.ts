/**
 * The dashboard's keys as a pure reducer: terminal input decoded into keys (arrow sequences in both cursor
 * modes, control bytes, several keys in one chunk), selection that stays on its run and stops at the ends,
 * the commands each key asks for, kill only after an explicit y, the egress log toggled, and every way to quit.
 */
import { describe, expect, test } from "bun:test";
import { decodeKeys, keepSelection, reduce, type ViewState } from "../../src/cli/dashboard/keys.ts";

const rows = [
  { runId: "a", label: "alpha" },
  { runId: "b", label: "beta" },
  { runId: "c", label: "gamma" },
];
const at = (selected?: string): ViewState => ({ notes: {}, ...(selected ? { selected } : {}) });
const press = (s: ViewState, ...keys: string[]) => keys.reduce((st, k) => reduce(st, k, rows).state, s);

describe("decoding terminal input", () => {
  test("arrows (normal and application mode), Home/End, control bytes and plain keys", () => {
    expect(decodeKeys("\x1b[A\x1bOB\x1b[H\x1b[4~")).toEqual(["up", "down", "home", "end"]);
    expect(decodeKeys("jk\x03q\r\x1b")).toEqual(["j", "k", "ctrl-c", "q", "enter", "escape"]);
  });
});

describe("selection", () => {
  test("moves with arrows, j and K, stops at both ends, jumps with g and G", () => {
    expect(press(at("a"), "down").selected).toBe("b");
    expect(press(at("a"), "j", "j", "j", "j").selected).toBe("c");
    expect(press(at("c"), "up", "K", "up").selected).toBe("a");
    expect(press(at("a"), "G").selected).toBe("c");
    expect(press(at("c"), "g").selected).toBe("a");
  });

  test("stays on its run as rows come and go, and falls back to the first row when its run leaves", () => {
    expect(keepSelection(rows, "b")).toBe("b");
    expect(keepSelection(rows.slice(2), "b")).toBe("c");
    expect(keepSelection([], "b")).toBeUndefined();
  });
});

describe("commands", () => {
  test("c, f and r send cutoff, freeze and restore to the selected run", () => {
    for (const [key, command] of [["c", "cutoff"], ["f", "freeze"], ["r", "restore"]] as const) {
      expect(reduce(at("b"), key, rows).effect).toEqual({ type: "send", runId: "b", label: "beta", command });
    }
  });

  test("k asks first; only y kills, any other key cancels", () => {
    const asked = reduce(at("c"), "k", rows);
    expect(asked.effect).toBeUndefined();
    expect(asked.state.confirm).toEqual({ runId: "c", label: "gamma" });
    expect(reduce(asked.state, "y", rows).effect).toEqual({ type: "send", runId: "c", label: "gamma", command: "kill" });
    const no = reduce(asked.state, "n", rows);
    expect(no.effect).toBeUndefined();
    expect(no.state.confirm).toBeUndefined();
    expect(no.state.message).toEqual({ text: "kill of gamma cancelled", tone: "ok" });
    expect(reduce(asked.state, "q", rows).effect).toBeUndefined(); // q answers the question, it does not quit
    expect(reduce(asked.state, "ctrl-c", rows).effect).toEqual({ type: "quit" });
  });

  test("with nothing selected a command key says so instead of acting", () => {
    const r = reduce(at(), "c", []);
    expect(r.effect).toBeUndefined();
    expect(r.state.message).toEqual({ text: "no run selected", tone: "error" });
  });
});

describe("the egress log and quitting", () => {
  test("l opens the selected run's log, l or Esc closes it", () => {
    const open = press(at("a"), "l");
    expect(open.log).toEqual({ runId: "a", label: "alpha" });
    expect(press(open, "l").log).toBeUndefined();
    expect(press(open, "escape").log).toBeUndefined();
  });

  test("q and Ctrl-C quit; a status message lasts one key", () => {
    expect(reduce(at("a"), "q", rows).effect).toEqual({ type: "quit" });
    expect(reduce(at("a"), "ctrl-c", rows).effect).toEqual({ type: "quit" });
    expect(reduce({ ...at("a"), message: { text: "x", tone: "ok" } }, "j", rows).state.message).toBeUndefined();
  });
});
