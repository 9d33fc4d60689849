/**
 * The opening of a record, from a resolved plan (nothing started): which secrets the run could be given
 * are named, never their values — not a route key from the host environment, not an answered env prompt;
 * the prompt's text is left out with --no-prompt-in-report and its hash kept; the policy hash changes when
 * the composed policy does and only then; the agent's manifest hash is the hash of its file.
 */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveLaunch } from "../../src/launch/index.ts";
import type { LaunchRequest } from "../../src/launch/types.ts";
import { recordOpening } from "../../src/provenance/index.ts";
import { freshHome } from "../support/cli.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { gitWorkspace } from "./helpers.ts";

const KEY = "sk-ant-REAL-SECRET-VALUE-9f2c";
const ANSWER = "ticket-answer-SECRET-77";

function home(routesExtra = ""): string {
  const h = freshHome();
  mkdirSync(join(h, "bottles"));
  mkdirSync(join(h, "agents"));
  writeFileSync(join(h, "bottles", "keyed.md"), `---\nenv:\n  TICKET: "?Which ticket"\negress:\n  routes:\n    - host: api.anthropic.com\n      auth: { header: x-api-key, env: ANTHROPIC_API_KEY }\n${routesExtra}---\n`);
  writeFileSync(join(h, "agents", "fixer.md"), "---\nprovider: claude\nbottle: keyed\n---\nFix things.\n");
  return h;
}

async function opening(h: string, req: Partial<LaunchRequest> = {}) {
  const plan = await resolveLaunch(
    { agent: "fixer", headless: true, prompt: "Fix the bug.", backend: "sandbox", cwd: gitWorkspace(), envAnswers: { TICKET: ANSWER }, ...req },
    { home: h, env: { ANTHROPIC_API_KEY: KEY, PATH: `${AGENTS_BIN}:${process.env.PATH}` }, activeLabels: async () => [], probe: async () => ({ ok: true as const }) },
  );
  return recordOpening({ plan, routes: plan.routes, answeredEnv: plan.pendingEnv.map((p) => p.name), hostPath: `${AGENTS_BIN}:${process.env.PATH}` });
}

test("secrets are named, never given; the prompt is kept or only hashed; the manifest is hashed", async () => {
  const h = home();
  const o = await opening(h);
  expect(o.bottles.secrets).toEqual([
    { name: "ANTHROPIC_API_KEY", via: "route-auth", host: "api.anthropic.com" },
    { name: "TICKET", via: "env-prompt" },
  ]);
  const text = JSON.stringify(o);
  expect(text).not.toContain(KEY);
  expect(text).not.toContain(ANSWER);
  expect(o.prompt).toEqual({ sha256: createHash("sha256").update("Fix the bug.").digest("hex"), text: "Fix the bug.", included: true });
  expect(o.agent.manifestSha256).toBe(createHash("sha256").update(readFileSync(join(h, "agents", "fixer.md"))).digest("hex"));
  // The sandbox runs the host's install: its package.json's version, the one `claude --version` reports.
  const version = Bun.spawnSync([join(AGENTS_BIN, "claude"), "--version"]).stdout.toString();
  expect(o.agent.cli).toMatchObject({ binary: "claude", package: "@anthropic-ai/claude-code" });
  expect(version).toContain(o.agent.cli.version!);
  expect(o.workspaceStart.git).toMatchObject({ branch: "main", dirty: false });

  const hidden = await opening(h, { promptInReport: false });
  expect(hidden.prompt).toEqual({ sha256: o.prompt.sha256, text: null, included: false });
});

test("the policy hash follows the composed policy and nothing else", async () => {
  const a = await opening(home());
  const b = await opening(home());
  expect(b.bottles.policySha256).toBe(a.bottles.policySha256);
  const c = await opening(home("    - host: registry.npmjs.org\n"));
  expect(c.bottles.policySha256).not.toBe(a.bottles.policySha256);
  expect(c.bottles.routes.map((r) => r.host)).toContain("registry.npmjs.org");
  // A path let through unmetered is policy a reviewer sees.
  const d = await opening(home('      unmetered: ["/v1/files"]\n'));
  expect(d.bottles.routes.find((r) => r.host === "api.anthropic.com")?.unmetered).toEqual(["/v1/files"]);
  expect(d.bottles.policySha256).not.toBe(a.bottles.policySha256);
});
