/**
 * Claude Code (`@anthropic-ai/claude-code`). It bypasses its own permission prompts inside a bottle
 * (`--dangerously-skip-permissions`, which it refuses as root; bottles run it as an unprivileged user),
 * takes a headless prompt with `-p`, resumes with `--continue`, and trusts extra CAs from
 * NODE_EXTRA_CA_CERTS. Besides /v1/messages it calls /api/claude_code/* on the same API host (managed
 * settings and policy limits; no tokens) and, unless told not to, telemetry and error reporting.
 */
import type { Provider } from "./types.ts";

/** What the agent holds instead of a key: an `auth:` route on the proxy replaces it with the real one. */
export const CLAUDE_PLACEHOLDER_KEY = "sk-ant-bottle-placeholder-0000000000";

export const claude: Provider = {
  name: "claude",
  binary: "claude",
  npm: { package: "@anthropic-ai/claude-code", version: "2.1.197" },
  argv({ model, prompt, json, resume }) {
    const a = ["claude", "--dangerously-skip-permissions"];
    if (model) a.push("--model", model);
    if (resume) a.push("--continue");
    if (prompt !== undefined) {
      a.push("-p", prompt);
      if (json) a.push("--output-format", "stream-json", "--verbose");
    }
    return a;
  },
  caEnv: (caPath) => ({ NODE_EXTRA_CA_CERTS: caPath }),
  env: {
    ANTHROPIC_API_KEY: CLAUDE_PLACEHOLDER_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    // Claude Code would retitle the terminal after each topic; an attached run's title is its bottle label.
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: "1",
  },
  meteredHosts: [{ host: "api.anthropic.com", paths: ["/v1/messages", "/v1/messages/count_tokens"], decision: "route", why: "the Messages API: every token the agent spends" }],
  sideHosts: [
    { host: "api.anthropic.com", paths: ["/api/claude_code/*"], decision: "route", why: "managed settings and policy limits on the metered host; carry no tokens (404 from a gateway is harmless)" },
    { host: "statsig.anthropic.com", decision: "deny", why: "feature flags and telemetry; also switched off by CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC" },
    { host: "*.sentry.io", decision: "deny", why: "error reporting; also switched off by DISABLE_ERROR_REPORTING" },
    { host: "claude.ai", decision: "deny", why: "subscription sign-in; bottles use API-key custody through the proxy" },
    { host: "console.anthropic.com", decision: "deny", why: "OAuth sign-in; not needed with a proxied API key" },
    { host: "storage.googleapis.com", decision: "deny", why: "self-update downloads; the CLI version is pinned by the host or image" },
  ],
  skillsDir: ".claude/skills",
  instructionsFile: ".claude/CLAUDE.md",
  homeFiles() {
    // First-run state: onboarding done, the placeholder key pre-approved, bypass mode acknowledged, so an
    // interactive session starts straight at the prompt.
    const state = {
      hasCompletedOnboarding: true,
      bypassPermissionsModeAccepted: true,
      customApiKeyResponses: { approved: [CLAUDE_PLACEHOLDER_KEY.slice(-20)], rejected: [] },
      autoUpdates: false,
    };
    return { ".claude.json": `${JSON.stringify(state, null, 2)}\n` };
  },
};
