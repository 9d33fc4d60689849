/**
 * Provisioning safety and the provider argv contracts. Skill names with shell metacharacters or path
 * tricks die as typed errors before any backend call (recorded through a spy backend) and before any file
 * is created; provider argv arrays carry the prompt as one element, whatever it contains.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveEnvPrompts } from "../../src/backends/env-prompts.ts";
import type { Backend, BottleHandle } from "../../src/backends/types.ts";
import { ManifestError, NotFoundError } from "../../src/errors.ts";
import { bottleHome } from "../../src/paths.ts";
import { PROVIDER_TABLE, providerRoutes } from "../../src/providers/index.ts";
import { buildPlan } from "../../src/providers/plan.ts";
import { provisionAgent } from "../../src/providers/provision.ts";
import { freshWorkspace } from "../helpers/bottles.ts";

/** A backend that records every call and copies nothing: provisioning must not reach it on bad input. */
function spyBackend(calls: string[]): Backend {
  const record = (name: string) => async (...args: unknown[]) => {
    calls.push(`${name} ${JSON.stringify(args.slice(1))}`);
    return { exitCode: 0, stdout: "", stderr: "" };
  };
  return new Proxy({} as Backend, { get: (_t, prop: string) => record(prop) });
}

const hostHome = freshWorkspace();
const handle = { runId: "r", backend: "sandbox", hostHome, hostWorkspace: hostHome, workspace: hostHome } as unknown as BottleHandle;
const canary = join(process.env.TMPDIR!, "PWNED");

afterEach(() => expect(existsSync(canary)).toBe(false));

describe("skill names never reach a file-system or process call", () => {
  const evil = [`x; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, "../../../etc", "a b", "UPPER", "-rf", "good|bad", "name\n", ""];
  for (const name of evil) {
    test(`rejects ${JSON.stringify(name)} before the first copy`, async () => {
      // Even a directory literally named like that in $BOTTLE_HOME/skills must not be used.
      if (name && !name.includes("/") && !name.includes("\n")) mkdirSync(join(bottleHome(), "skills", name), { recursive: true });
      const calls: string[] = [];
      const err = await provisionAgent(spyBackend(calls), handle, PROVIDER_TABLE.claude, { skills: ["fine-skill", name], prompt: "p", file: "/agents/x.md" }).catch((e) => e);
      expect(err).toBeInstanceOf(ManifestError);
      expect(err.context).toMatchObject({ file: "/agents/x.md", key: "skills[1]" });
      expect(calls).toEqual([]);
      expect(readdirSync(hostHome)).toEqual([]);
    });
  }

  test("a valid but missing skill is a NotFoundError that names the fix, also before any copy", async () => {
    const calls: string[] = [];
    const err = await provisionAgent(spyBackend(calls), handle, PROVIDER_TABLE.codex, { skills: ["no-such-skill"], prompt: "p" }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.context.fix).toContain("no-such-skill/SKILL.md");
    expect(calls).toEqual([]);
  });

  test("valid skills are copied into each provider's skills directory", async () => {
    const skill = join(bottleHome(), "skills", "code-review");
    mkdirSync(skill, { recursive: true });
    writeFileSync(join(skill, "SKILL.md"), "# review\n");
    for (const p of Object.values(PROVIDER_TABLE)) {
      const calls: string[] = [];
      await provisionAgent(spyBackend(calls), handle, p, { skills: ["code-review"], prompt: "Be brief." });
      expect(calls.at(-1)).toBe(`copyIn ${JSON.stringify([skill, `/home/bottle/${p.skillsDir}/code-review`])}`);
      expect(calls.some((c) => c.includes(`/home/bottle/${p.instructionsFile}`))).toBe(true);
    }
  });
});

describe("provider argv", () => {
  const prompt = `it's "quoted"; $(rm -rf /) && echo \`x\``;
  test("headless prompts are one argv element, after the provider's own headless flag", () => {
    expect(PROVIDER_TABLE.claude.argv({ prompt })).toEqual(["claude", "--dangerously-skip-permissions", "-p", prompt]);
    expect(PROVIDER_TABLE.codex.argv({ prompt, json: true })).toEqual(["codex", "exec", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check", "--json", prompt]);
    expect(PROVIDER_TABLE.pi.argv({ prompt })).toEqual(["pi", "--provider", "anthropic", "-p", prompt]);
  });

  test("interactive and resume forms", () => {
    expect(PROVIDER_TABLE.claude.argv({ resume: true, model: "claude-sonnet-4-5" })).toEqual(["claude", "--dangerously-skip-permissions", "--model", "claude-sonnet-4-5", "--continue"]);
    expect(PROVIDER_TABLE.codex.argv({ resume: true })).toEqual(["codex", "resume", "--last", "--dangerously-bypass-approvals-and-sandbox"]);
    expect(PROVIDER_TABLE.codex.argv({ resume: true, prompt: "go on" })).toEqual(["codex", "exec", "resume", "--last", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check", "go on"]);
    expect(PROVIDER_TABLE.pi.argv({ resume: true, model: "openai/gpt-4o" })).toEqual(["pi", "--model", "openai/gpt-4o", "--continue"]);
  });

  test("CA trust follows DESIGN §7 and every metered host is routed", () => {
    expect(PROVIDER_TABLE.claude.caEnv("/c.pem")).toEqual({ NODE_EXTRA_CA_CERTS: "/c.pem" });
    expect(PROVIDER_TABLE.pi.caEnv("/c.pem")).toEqual({ NODE_EXTRA_CA_CERTS: "/c.pem" });
    expect(PROVIDER_TABLE.codex.caEnv("/c.pem")).toEqual({ CODEX_CA_CERTIFICATE: "/c.pem" });
    expect(providerRoutes(PROVIDER_TABLE.codex).map((r) => r.host)).toEqual(["api.openai.com", "chatgpt.com"]);
    for (const p of Object.values(PROVIDER_TABLE)) {
      const routed = new Set(providerRoutes(p).map((r) => r.host));
      for (const h of p.sideHosts.filter((s) => s.decision === "deny")) expect(routed.has(h.host)).toBe(false);
    }
  });
});

describe("plans", () => {
  test("a sandbox plan trusts the CA, keeps the bottle env on top, and exposes the host install of the CLI", () => {
    const bin = join(freshWorkspace({ "node_modules/@openai/codex/bin/codex.js": "#!/usr/bin/env node\n" }), "node_modules");
    const dotBin = join(bin, ".bin");
    mkdirSync(dotBin);
    symlinkSync("../@openai/codex/bin/codex.js", join(dotBin, "codex"));
    chmodSync(join(bin, "@openai/codex/bin/codex.js"), 0o755);
    const plan = buildPlan({ runId: "r1", label: "l", agent: "a", provider: "codex", backend: "sandbox", cwd: "/w", proxy: { socketPath: "/s.sock", caCertPath: "/ca.pem" }, env: { OPENAI_API_KEY: "mine" }, hostPath: `${dotBin}:/usr/bin` });
    expect(plan.env).toMatchObject({ CODEX_CA_CERTIFICATE: "/run/bottle/ca.pem", OPENAI_API_KEY: "mine", PATH: `${dotBin}:/usr/bin` });
    expect(plan.expose).toEqual([dotBin, bin]);
  });

  test("a missing CLI names the npm package to install", () => {
    expect(() => buildPlan({ runId: "r1", label: "l", agent: "a", provider: "pi", backend: "sandbox", cwd: "/w", proxy: { socketPath: "/s", caCertPath: "/c" }, hostPath: "/nonexistent" })).toThrow(
      expect.objectContaining({ context: expect.objectContaining({ fix: expect.stringContaining("npm install -g @mariozechner/pi-coding-agent") }) }),
    );
    const docker = buildPlan({ runId: "r1", label: "l", agent: "a", provider: "pi", backend: "docker", cwd: "/w", proxy: { socketPath: "/s", caCertPath: "/c" }, hostPath: "/nonexistent" });
    expect(docker.expose).toBeUndefined();
  });
});

describe("env prompts", () => {
  const env = { PLAIN: "v", TOKEN: "?Your GitHub token" };
  test("interactive launches ask, with the host value as the default", async () => {
    const asked: unknown[] = [];
    const out = await resolveEnvPrompts(env, { interactive: true, hostEnv: { TOKEN: "host" }, ask: async (...a) => (asked.push(a), "typed") });
    expect(out).toEqual({ PLAIN: "v", TOKEN: "typed" });
    expect(asked).toEqual([["TOKEN", "Your GitHub token", "host"]]);
  });

  test("headless launches take the host value, or fail naming the variable and the bottle file", async () => {
    expect(await resolveEnvPrompts(env, { interactive: false, hostEnv: { TOKEN: "from-host" } })).toEqual({ PLAIN: "v", TOKEN: "from-host" });
    const err = await resolveEnvPrompts(env, { interactive: false, hostEnv: {}, origin: { TOKEN: "/bh/bottles/gh.md" } }).catch((e) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect(err.message).toContain("$TOKEN is not set");
    expect(err.context).toMatchObject({ file: "/bh/bottles/gh.md", key: "env.TOKEN" });
    expect(err.context.fix).toContain("export TOKEN=");
  });
});
