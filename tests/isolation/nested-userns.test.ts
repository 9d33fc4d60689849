/**
 * A regression test for an attack that fails: the agent makes a user and mount namespace of its own
 * (`unshare -Urm`, allowed inside a sandbox), where it holds every capability over its copy of the mount
 * table, and tries to take off the read-only mounts git-guard puts over `.git/config` and `.bottle`: unmount
 * them, lazily unmount them, remount them read-write, or bind the workspace again without its submounts.
 * The kernel locks mounts inherited from a more privileged namespace, so each of those fails. It may mount
 * a new file system over `.git` (that only hides, in its own namespace), and then write "config": the
 * host's `.git/config` and `.bottle` must be unchanged afterwards. (Checked as root and as an
 * ordinary launcher by scripts/test-isolation.sh.)
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { echoProxy, freshWorkspace, planFor, type EchoProxy } from "../helpers/bottles.ts";
import { bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

let proxy: EchoProxy;
const b = bottles();
beforeAll(() => void (proxy = echoProxy()));
afterAll(async () => {
  await b.closeAll();
  proxy?.stop();
});

const ATTACK = `
set +e
try() { if "$@" 2>/dev/null; then echo "ok $*"; else echo "refused $*"; fi; }
try umount .git/config
try umount -l .git/config
try mount -o remount,rw,bind .git/config
try mount -o remount,rw,bind .bottle
mkdir -p /tmp/again
try mount --bind . /tmp/again
try mount -t tmpfs none .git
try umount -l .bottle
printf '[core]\\n\\tfsmonitor = /tmp/x\\n' >> .git/config 2>/dev/null
[ -d /tmp/again/.git ] && printf 'x\\n' >> /tmp/again/.git/config 2>/dev/null
mkdir -p .bottle/agents 2>/dev/null && echo planted > .bottle/agents/a.md 2>/dev/null
echo done
`;

test("sandbox: in a user and mount namespace of its own the agent cannot take off git-guard's or .bottle's read-only mounts", async () => {
  const ws = freshWorkspace({ "a.txt": "a\n" });
  expect(Bun.spawnSync(["git", "init", "-q", ws]).exitCode).toBe(0);
  const before = readFileSync(join(ws, ".git", "config"), "utf8");
  const h = await b.open("sandbox", planFor({ proxySocket: proxy.socketPath, cwd: ws }));
  const r = await b.run(h, ["unshare", "-Urm", "sh", "-c", ATTACK]);
  await b.closeAll();
  expect(r.stdout).toContain("done");
  expect(r.stdout).not.toMatch(/^ok (umount|mount -o remount|mount --bind)/m);
  expect(readFileSync(join(ws, ".git", "config"), "utf8")).toBe(before);
  expect(existsSync(join(ws, ".bottle")) ? readdirSync(join(ws, ".bottle")) : []).toEqual([]);
});
