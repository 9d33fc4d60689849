/**
 * Which tool call a simulated Responses answer makes: the one the client really offered. Codex's tools
 * change between releases — a `shell` function, then `shell_command` and `exec_command`, and now a single
 * free-form `exec` tool (code mode: JavaScript that calls nested tools such as `tools.exec_command`),
 * listed in the request's `tools` or in an `additional_tools` input item, possibly inside a namespace. A
 * call to a tool the client does not have fails ("unsupported call: shell"), so the simulator reads the
 * offered tools and shapes its shell step for the first kind it finds; with none of them, it calls the
 * configured tool as given. Pure.
 */

type Json = Record<string, unknown>;

export type ResponsesCall =
  | { type: "function_call"; name: string; arguments: string }
  | { type: "custom_tool_call"; name: string; input: string };

/** Every tool the request offers, namespaces flattened: the top-level `tools` and `additional_tools` items. */
export function offeredTools(body: Json): Json[] {
  const out: Json[] = [];
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const t of list) {
      if (typeof t !== "object" || t === null) continue;
      const tool = t as Json;
      if (tool.type === "namespace") walk(tool.tools);
      else out.push(tool);
    }
  };
  walk(body.tools);
  if (Array.isArray(body.input)) for (const item of body.input) if ((item as Json | null)?.type === "additional_tools") walk((item as Json).tools);
  return out;
}

/** The shell command a configured tool input carries (`command` as a string, or argv whose last word is the script). */
function commandOf(input: Json): string {
  const c = input.command ?? input.cmd;
  if (typeof c === "string") return c;
  if (Array.isArray(c) && typeof c.at(-1) === "string") return c.at(-1) as string;
  return "true";
}

export function responsesCall(body: Json, configured: { name: string; input: Json }): ResponsesCall {
  const tools = offeredTools(body);
  const has = (type: string, name: string) => tools.some((t) => t.type === type && t.name === name);
  const command = commandOf(configured.input);
  if (has("function", configured.name)) return { type: "function_call", name: configured.name, arguments: JSON.stringify(configured.input) };
  if (has("custom", "exec")) return { type: "custom_tool_call", name: "exec", input: `text(await tools.exec_command({ cmd: ${JSON.stringify(command)} }));\n` };
  if (has("function", "exec_command")) return { type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: command }) };
  if (has("function", "shell_command")) return { type: "function_call", name: "shell_command", arguments: JSON.stringify({ command }) };
  if (has("function", "shell")) return { type: "function_call", name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", command] }) };
  return { type: "function_call", name: configured.name, arguments: JSON.stringify(configured.input) };
}
