import { afterEach, expect, test } from "bun:test";
import { holdLogs, log, setLogger, type Logger } from "../../src/log.ts";

const lines: string[] = [];
const sink: Logger = {
  debug: (m) => lines.push(`debug ${m}`),
  info: (m) => lines.push(`info ${m}`),
  warn: (m) => lines.push(`warn ${m}`),
  error: (m) => lines.push(`error ${m}`),
};

afterEach(() => {
  lines.length = 0;
  setLogger(sink);
});

test("lines logged while an agent owns the terminal are held, then printed in order on release", () => {
  setLogger(sink);
  log.info("before");
  const held = holdLogs();
  log.warn("egress deny: GET evil.example/");
  log.info("metered: 37 tokens");
  expect(lines).toEqual(["info before"]);
  held.release();
  expect(lines).toEqual(["info before", "warn egress deny: GET evil.example/", "info metered: 37 tokens"]);
  log.error("after");
  expect(lines.at(-1)).toBe("error after");
});

test("release is idempotent and does not undo a sink installed while holding", () => {
  setLogger(sink);
  const held = holdLogs();
  log.info("held");
  const other: string[] = [];
  setLogger({ debug: () => {}, info: (m) => other.push(m), warn: () => {}, error: () => {} });
  held.release();
  held.release();
  expect(lines).toEqual(["info held"]);
  log.info("to the new sink");
  expect(other).toEqual(["to the new sink"]);
});
