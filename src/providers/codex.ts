/**
 * OpenAI Codex CLI (`@openai/codex`). Inside a bottle it skips its own approvals and sandbox
 * (`--dangerously-bypass-approvals-and-sandbox`: the bottle is the sandbox, and codex's landlock/seccomp
 * layer cannot nest in every backend), runs headless with `exec <prompt>` (`--json` for the event
 * stream), resumes with `resume --last`, and trusts a CA from CODEX_CA_CERTIFICATE. It first tries a
 * WebSocket to /v1/responses; the proxy refuses the upgrade and codex falls back to HTTPS streaming, which
 * is metered.
 */
import type { Provider } from "./types.ts";

export const CODEX_PLACEHOLDER_KEY = "sk-bottle-placeholder-0000000000";

export const codex: Provider = {
  name: "codex",
  binary: "codex",
  npm: { package: "@openai/codex", version: "0.169.0" },
  argv({ model, prompt, json, resume }) {
    const headless = prompt !== undefined;
    const a = ["codex"];
    if (headless) a.push("exec");
    if (resume) a.push("resume", "--last");
    a.push("--dangerously-bypass-approvals-and-sandbox");
    if (model) a.push("--model", model);
    if (headless) {
      a.push("--skip-git-repo-check");
      if (json) a.push("--json");
      a.push(prompt);
    }
    return a;
  },
  caEnv: (caPath) => ({ CODEX_CA_CERTIFICATE: caPath }),
  env: { OPENAI_API_KEY: CODEX_PLACEHOLDER_KEY, CODEX_API_KEY: CODEX_PLACEHOLDER_KEY },
  meteredHosts: [
    { host: "api.openai.com", paths: ["/v1/responses"], decision: "route", why: "the Responses API with an API key" },
    { host: "chatgpt.com", paths: ["/backend-api/codex/responses"], decision: "route", why: "the Responses API when signed in with ChatGPT; also the model list and plugin catalogue" },
  ],
  sideHosts: [
    { host: "ab.chatgpt.com", decision: "deny", why: "product analytics" },
    { host: "github.com", decision: "deny", why: "curated plugin marketplace download at startup; codex continues without it" },
    { host: "api.github.com", decision: "deny", why: "curated plugin marketplace lookup at startup" },
  ],
  skillsDir: ".codex/skills",
  instructionsFile: ".codex/AGENTS.md",
  homeFiles: () => ({}),
};
