/**
 * The simulated provider answers what Codex asks: its model list (GET /backend-api/codex/models, which
 * Codex refreshes at start) and a shell step made through the tool the request offers — Codex's code-mode
 * `exec` (free-form JavaScript calling `tools.exec_command`), `exec_command`, `shell_command` or `shell` —
 * never a tool the client does not have. Checked over HTTP against the real simulator server.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { offeredTools, responsesCall } from "../../src/simulator/responses-tools.ts";
import { startSimulator } from "../../src/simulator/server.ts";

const shell = { name: "shell", input: { command: ["bash", "-lc", "echo hi"] } };
const sim = startSimulator({ toolUse: shell, toolTurns: 10 });
afterAll(() => sim.close());

describe("Codex under the simulator", () => {
  test("the model list answers 200 with a list Codex accepts (empty: it keeps the models it ships with)", async () => {
    const r = await fetch(`${sim.url}/backend-api/codex/models?client_version=0.169.0`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ models: [] });
  });

  test("code mode: a custom `exec` tool in an additional_tools namespace gets a custom_tool_call running exec_command", async () => {
    const body = {
      model: "m",
      stream: true,
      input: [{ type: "additional_tools", role: "developer", tools: [{ type: "namespace", name: "functions", tools: [{ type: "custom", name: "exec" }, { type: "function", name: "wait" }] }] }, { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }],
    };
    expect(offeredTools(body).map((t) => t.name)).toEqual(["exec", "wait"]);
    const text = await (await fetch(`${sim.url}/v1/responses`, { method: "POST", body: JSON.stringify(body) })).text();
    const events = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
    const done = events.find((e) => e.type === "response.output_item.done" && e.item.type === "custom_tool_call");
    expect(done.item).toMatchObject({ type: "custom_tool_call", name: "exec", input: 'text(await tools.exec_command({ cmd: "echo hi" }));\n' });
    expect(events.find((e) => e.type === "response.custom_tool_call_input.done")?.input).toBe(done.item.input);
    expect(events.some((e) => e.type === "response.function_call_arguments.done")).toBe(false);
  });

  test("function tools: the configured one when offered, else exec_command, shell_command or shell", () => {
    const fns = (...names: string[]) => ({ tools: names.map((name) => ({ type: "function", name })) });
    expect(responsesCall(fns("shell", "exec_command"), shell)).toEqual({ type: "function_call", name: "shell", arguments: JSON.stringify(shell.input) });
    expect(responsesCall(fns("exec_command"), shell)).toEqual({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "echo hi" }) });
    expect(responsesCall(fns("shell_command"), shell)).toEqual({ type: "function_call", name: "shell_command", arguments: JSON.stringify({ command: "echo hi" }) });
    expect(responsesCall({ tools: [] }, shell)).toEqual({ type: "function_call", name: "shell", arguments: JSON.stringify(shell.input) });
  });
});
