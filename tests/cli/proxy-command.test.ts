import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { curl } from "../support/proxy-fixture.ts";

const MAIN = join(import.meta.dir, "../../src/cli/main.ts");
let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;

afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill("SIGKILL");
  proc = undefined;
});

/** Starts `bottle proxy …` and reads stdout until the export block is complete. */
async function startProxy(args: string[]): Promise<{ env: Record<string, string>; stdout: string }> {
  proc = Bun.spawn(["bun", MAIN, "proxy", ...args], { env: process.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 20_000;
  while (!text.includes("CURL_CA_BUNDLE") && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const env: Record<string, string> = {};
  for (const line of text.trim().split("\n")) {
    const m = /^export ([A-Za-z_]+)='(.*)'$/.exec(line);
    if (!m) throw new Error(`not an export line: ${line}`);
    env[m[1]!] = m[2]!;
  }
  return { env, stdout: text };
}

describe("bottle proxy", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`prints export lines that route an agent through the proxy, and stops cleanly on ${signal}`, async () => {
      const { env } = await startProxy(["--simulate", "--provider", "claude"]);
      expect(Object.keys(env)).toEqual(expect.arrayContaining(["HTTPS_PROXY", "HTTP_PROXY", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "CODEX_CA_CERTIFICATE"]));
      expect(env.NODE_EXTRA_CA_CERTS).toBe(join(process.env.BOTTLE_HOME!, "ca", "ca.pem"));
      const r = await curl(["--proxy", env.HTTPS_PROXY!, "--cacert", env.NODE_EXTRA_CA_CERTS!, "-d", JSON.stringify({ model: "m", max_tokens: 5, messages: [] }), "https://api.anthropic.com/v1/messages"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).content[0].text).toBe("Hello from the bottle simulator.");
      // The bundle serves OpenSSL tools that take a single CA file.
      const viaBundle = await curl(["--proxy", env.HTTPS_PROXY!, "--cacert", env.SSL_CERT_FILE!, "-d", "{}", "https://api.anthropic.com/v1/messages/count_tokens"]);
      expect(JSON.parse(viaBundle.stdout).input_tokens).toBe(25);
      const denied = await curl(["-o", "/dev/null", "-w", "%{http_connect}", "--proxy", env.HTTPS_PROXY!, "https://example.com/"]);
      expect(denied.stdout).toBe("403");
      proc!.kill(signal);
      expect(await proc!.exited).toBe(0);
      const stderr = await new Response(proc!.stderr).text();
      expect(stderr).toContain("403 deny CONNECT example.com");
      expect(stderr).toContain(`${signal} received, shutting down`);
      const after = await curl(["--proxy", env.HTTPS_PROXY!, "https://api.anthropic.com/"], 5000);
      expect(after.code).toBe(7); // nothing listens any more
    });
  }

  test("--json prints the run, port and environment", async () => {
    proc = Bun.spawn(["bun", MAIN, "proxy", "--json", "--log", "blocks"], { env: process.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    const { value } = await reader.read();
    const j = JSON.parse(new TextDecoder().decode(value)) as { runId: string; port: number; env: Record<string, string> };
    expect(j.runId).toStartWith("proxy-");
    expect(j.env.HTTPS_PROXY).toContain(`@127.0.0.1:${j.port}`);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  test("bad flags fail with a usage error naming the flag", async () => {
    const p = Bun.spawn(["bun", MAIN, "proxy", "--provider", "gpt"], { env: process.env, stdout: "pipe", stderr: "pipe" });
    expect(await p.exited).toBe(2);
    expect(await new Response(p.stderr).text()).toContain("unknown provider gpt");
  });
});
