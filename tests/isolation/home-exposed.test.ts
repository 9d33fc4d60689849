/**
 * The login home stays hidden even when what the sandbox must expose is the home itself. The sandbox
 * exposes the agent CLI's directory (the PATH entry holding it) read-only; with the CLI directly in the
 * home and the home on PATH, that directory is the home, and before this check the agent read every file
 * in it (homes *inside* an exposed tree were already covered). Now the bottle refuses to start, naming the
 * directory and the fix. (A home strictly inside an exposed tree is covered, as before: fs-allowlist.)
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const HOME = process.env.HOME!;
let proxy: EchoProxy;
const b = bottles();
beforeAll(() => {
  proxy = echoProxy();
  writeFileSync(join(HOME, "home-secret.txt"), "the agent must not read this\n");
});
afterAll(async () => {
  await b.closeAll();
  proxy?.stop();
});

test("sandbox: exposing the home directory itself is refused with the directory named, and the secret is never read", async () => {
  const h = await b.open("sandbox", planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace(), expose: [HOME] }));
  let out = "";
  let err: Error | undefined;
  try {
    const r = await b.run(h, ["cat", join(HOME, "home-secret.txt")]);
    out = r.stdout + r.stderr;
  } catch (e) {
    err = e as Error;
  }
  expect(out).not.toContain("must not read");
  expect(err?.message).toContain(`would expose ${HOME} to the agent`);
});
