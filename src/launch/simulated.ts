/**
 * `--simulate`: the run talks to bottle's built-in simulated provider (src/simulator) instead of the real
 * API, so bottle can be tried, demonstrated and tested on a machine with no API key. The simulator speaks
 * the real wire formats, so the agent CLI, the proxy, metering and budgets all do their real work; only
 * the model is fake. Its agent loops a few tool turns (a harmless `echo`) before answering, so one run
 * makes several metered requests and a small budget visibly cuts it off.
 */
import { PROVIDERS, type ProviderName, type Route } from "../manifest/types.ts";
import { KNOWN_API_HOSTS } from "../proxy/routes.ts";
import { providerFor } from "../providers/index.ts";
import { startSimulator, type Simulator } from "../simulator/server.ts";
import { simulatedRoutes } from "./routes.ts";

/** How many tool turns the simulated model asks for before its final answer. */
export const SIMULATED_TOOL_TURNS = 3;

const COMMAND = "echo 'a step requested by the simulated provider'";

/** Each CLI's own name and arguments for its shell tool. */
const SHELL_TOOL: Record<ProviderName, { name: string; input: Record<string, unknown> }> = {
  claude: { name: "Bash", input: { command: COMMAND, description: "print a step" } },
  codex: { name: "shell", input: { command: ["bash", "-lc", COMMAND] } },
  pi: { name: "bash", input: { command: COMMAND } },
};

export const SIMULATED_REPLY = "This answer comes from bottle's built-in simulated provider, not from a real model.";

export function startRunSimulator(provider: ProviderName): Simulator {
  return startSimulator({ text: SIMULATED_REPLY, model: "bottle-simulated", toolUse: SHELL_TOOL[provider], toolTurns: SIMULATED_TOOL_TURNS, closeConnections: true });
}

/** Every model API host bottle meters: all of them go to the simulator (it speaks every format). */
const API_HOSTS = [...new Set([...PROVIDERS.flatMap((p) => providerFor(p).meteredHosts.map((h) => h.host)), ...Object.keys(KNOWN_API_HOSTS)])];

/** The run's routes with every model API host sent to the simulator at `url`, keyless. */
export function routesToSimulator(routes: readonly Route[], url: string): Route[] {
  return simulatedRoutes(routes, API_HOSTS, url);
}
