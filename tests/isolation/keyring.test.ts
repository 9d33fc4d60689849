/**
 * The launcher's session keyring stays out of reach. A process inherits the session keyring of whoever
 * started it, across bwrap and a change of uid, and anything that possesses the keyring reads its keys: a
 * sandbox agent launched by root read a secret root had put there (`keyctl add user … @s`, a Kerberos
 * ticket, a cached credential), although it runs as an unprivileged uid. Host control: a plain child of
 * the launcher reads the secret. Inside a sandbox and a docker bottle the agent's search is refused.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { resolve } from "node:path";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { addSessionKey, joinFreshSessionKeyring } from "../fixtures/keyring-probe.ts";
import { BACKENDS, bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const PROBE = resolve(import.meta.dir, "../fixtures/keyring-probe.ts");
const DESCRIPTION = `bottle-iso-${process.pid}`;
const SECRET = `launcher-secret-${process.pid}`;

let proxy: EchoProxy;
const b = bottles();
beforeAll(() => {
  proxy = echoProxy();
  expect(joinFreshSessionKeyring()).toBeGreaterThan(0);
  expect(addSessionKey(DESCRIPTION, SECRET)).toBeGreaterThan(0);
});
afterAll(async () => {
  await b.closeAll();
  proxy?.stop();
});

test("control: a child of the launcher reads the secret from the session keyring it inherited", () => {
  const r = Bun.spawnSync([process.execPath, PROBE, "read", DESCRIPTION], { stdout: "pipe", stderr: "pipe" });
  expect(r.stdout.toString().trim()).toBe(`secret: ${SECRET}`);
});

for (const kind of BACKENDS) {
  describe(`${kind} bottle`, () => {
    test("the agent cannot read a key from the launcher's session keyring", async () => {
      const h = await b.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace() }));
      const r = await b.run(h, [process.execPath, PROBE, "read", DESCRIPTION]);
      expect(r.stdout.trim()).toMatch(/^refused: /);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    });
  });
}
