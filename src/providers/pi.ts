/**
 * The pi coding agent (`@mariozechner/pi-coding-agent`). pi has no permission prompts to bypass; it runs
 * headless with `-p <prompt>` (`--mode json` for events), resumes with `--continue`, trusts extra CAs from
 * NODE_EXTRA_CA_CERTS, and with PI_OFFLINE=1 makes no startup network calls. It speaks to several model
 * APIs; bottle points it at Anthropic unless the agent's `model` names a provider (`openai/gpt-4o`).
 */
import type { Provider } from "./types.ts";

export const PI_PLACEHOLDER_KEY = "sk-bottle-placeholder-0000000000";

export const pi: Provider = {
  name: "pi",
  binary: "pi",
  npm: { package: "@mariozechner/pi-coding-agent", version: "0.73.1" },
  argv({ model, prompt, json, resume }) {
    const a = ["pi"];
    if (model && model.includes("/")) a.push("--model", model);
    else a.push("--provider", "anthropic", ...(model ? ["--model", model] : []));
    if (resume) a.push("--continue");
    if (prompt !== undefined) {
      if (json) a.push("--mode", "json");
      a.push("-p", prompt);
    }
    return a;
  },
  caEnv: (caPath) => ({ NODE_EXTRA_CA_CERTS: caPath }),
  env: { PI_OFFLINE: "1", PI_TELEMETRY: "0", ANTHROPIC_API_KEY: PI_PLACEHOLDER_KEY, OPENAI_API_KEY: PI_PLACEHOLDER_KEY },
  meteredHosts: [
    { host: "api.anthropic.com", paths: ["/v1/messages"], decision: "route", why: "Anthropic models (the default)" },
    { host: "api.openai.com", paths: ["/v1/responses", "/v1/chat/completions"], decision: "route", why: "OpenAI models (`model: openai/…`)" },
  ],
  // With PI_OFFLINE=1 and PI_TELEMETRY=0 pi calls nothing but its model API; `pi install`/`pi update`
  // would need the package registry, which no bottle routes.
  sideHosts: [],
  skillsDir: ".pi/agent/skills",
  instructionsFile: ".pi/agent/AGENTS.md",
  homeFiles: () => ({}),
};
