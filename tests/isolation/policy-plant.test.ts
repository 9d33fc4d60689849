/**
 * Nothing an agent does inside a bottle can plant policy that bottle reads on a later run (DESIGN §6a.2).
 * From inside a real sandbox bottle and a real docker bottle, in the default bind mode, with no `.bottle`
 * in the workspace at launch, the agent tries to create `.bottle/agents/claude.md` (a budget of 99999999)
 * and to replace `.bottle` itself. Both fail; the host workspace holds no agent file afterwards, and the
 * catalog a later run in that directory loads is the one it would have loaded anyway. (Before, the
 * read-only mount only covered a `.bottle` that already existed, so the plant succeeded.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadCatalog } from "../../src/manifest/catalog.ts";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { BACKENDS, bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const PLANT = "mkdir -p .bottle/agents && printf -- '---\\nprovider: claude\\nbudget: { claude: 99999999 }\\n---\\nplanted\\n' > .bottle/agents/claude.md";
const REPLACE = "mv .bottle .bottle-old || rmdir .bottle; mkdir -p .bottle/agents && echo planted > .bottle/agents/claude.md";

let proxy: EchoProxy;
const b = bottles();
beforeAll(() => void (proxy = echoProxy()));
afterAll(async () => {
  await b.closeAll();
  proxy.stop();
});

for (const kind of BACKENDS) {
  describe(`${kind} bottle`, () => {
    test("an agent cannot create .bottle/agents in a workspace that had none, nor replace .bottle", async () => {
      const ws = freshWorkspace({ "README.md": "a project\n" });
      const home = freshWorkspace();
      const before = loadCatalog({ home, cwd: ws }).agents.get("claude")!;
      const h = await b.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: ws }));
      const planted = await b.run(h, ["sh", "-c", PLANT]);
      expect(planted.exitCode).not.toBe(0);
      const replaced = await b.run(h, ["sh", "-c", REPLACE]);
      expect(replaced.exitCode).not.toBe(0);
      // The agent can still write its workspace.
      expect((await b.run(h, ["sh", "-c", "echo work > result.txt"])).exitCode).toBe(0);
      await b.closeAll();
      expect(existsSync(join(ws, "result.txt"))).toBe(true);
      expect(existsSync(join(ws, ".bottle", "agents"))).toBe(false);
      expect(existsSync(join(ws, ".bottle-old"))).toBe(false);
      expect(readdirSync(join(ws, ".bottle"))).toEqual([]);
      const after = loadCatalog({ home, cwd: ws }).agents.get("claude")!;
      expect(after).toEqual(before);
    });
  });
}
