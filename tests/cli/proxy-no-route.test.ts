/**
 * `bottle proxy` has no bottle, so its "no route" refusal must not tell the user to edit a bottle's
 * egress.routes (it used to): with real curl through the real CLI, a host outside its allowlist, by CONNECT
 * and by plain http, gets a 403 that names bottle proxy's allowlist (the API hosts of the providers it
 * serves, and `--provider`) and says how another host can be reached. The same reason is in the audit log.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { auditOf, openLedger } from "../../src/ledger/index.ts";
import { startBottleProxy, type BottleProxy } from "../support/bottle-proxy.ts";
import { curl } from "../support/proxy-fixture.ts";

let px: BottleProxy | undefined;
afterEach(async () => {
  await px?.stop("SIGKILL");
  px = undefined;
});

test("bottle proxy's no-route refusal names its own allowlist and --provider, not a bottle's egress.routes", async () => {
  const home = mkdtempSync(join(process.env.TMPDIR!, "proxy-no-route-"));
  px = await startBottleProxy(home);
  const tunnelled = await curl(["-s", "-o", "/dev/null", "-w", "%{http_connect}", "--proxy", px.proxyUrl, "--cacert", px.caFile, "https://elsewhere.example/"]);
  expect(tunnelled.stdout).toBe("403");
  const plain = await curl(["-s", "-i", "--proxy", px.proxyUrl, "http://elsewhere.example/x"]);
  expect(plain.stdout).toContain("HTTP/1.1 403");
  const reason = "elsewhere.example is not on bottle proxy's allowlist (--provider claude: api.anthropic.com); omit --provider to serve every provider's API hosts; other hosts need `bottle run` with a bottle whose egress.routes allow them";
  expect(plain.stdout.toLowerCase()).toContain("x-bottle-reason: elsewhere.example is not on bottle proxy's allowlist");
  expect(plain.stdout).toContain(`bottle: ${reason}`);
  expect(plain.stdout).not.toContain("this bottle's");
  // Served for another provider's host too: the message says how to get it (every provider's hosts).
  const openai = await curl(["-s", "-i", "--proxy", px.proxyUrl, "http://api.openai.com/v1/models"]);
  expect(openai.stdout).toContain("api.openai.com is not on bottle proxy's allowlist (--provider claude: api.anthropic.com); omit --provider to serve every provider's API hosts");

  expect(await px.stop()).toBe(0);
  px = undefined;
  const db = await openLedger({ path: join(home, "bottle.db") });
  try {
    const runs = await db.selectFrom("runs").select("id").execute();
    const denials = (await auditOf(db, runs[0]!.id)).filter((a) => a.decision === "deny");
    expect(denials.map((a) => [a.host, a.status])).toEqual([
      ["elsewhere.example", 403],
      ["elsewhere.example", 403],
      ["api.openai.com", 403],
    ]);
    expect(denials[1]!.reason).toBe(reason);
  } finally {
    await db.destroy();
  }
});
