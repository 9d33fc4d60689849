/**
 * A bottle never sees the fleet ledger's credentials. The host runs bottle with BOTTLE_LEDGER_URL holding a
 * password, PGPASSWORD set, a ~/.pgpass and a settings.yml `ledger:` URL with passwords of their own; a
 * real launch (`bottle run … --backend sandbox`, the run registered on a real Postgres ledger) starts a
 * stand-in agent in a real sandbox bottle, which writes out its environment and searches every place it
 * can read that could hold them: its home, the work tree, /tmp, /run, /etc, /var, /root, the host's HOME
 * and BOTTLE_HOME paths, and every visible process's environ and command line. None of the passwords is
 * found; a canary placed in the work tree is (so the search itself works).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLedger } from "../../src/ledger/index.ts";
import { freshWorkspace } from "../helpers/bottles.ts";
import { freshHome, runCli } from "../support/cli.ts";
import { freshPgLedger } from "../support/postgres.ts";

setDefaultTimeout(150_000);

// Each secret appears in the agent's script only as a pattern that does not match itself ("[x]" trick),
// so the script file is never a false hit wherever it is visible.
const tag = Math.random().toString(36).slice(2, 10);
const SECRETS = { url: `urlpw${tag}`, pgpassword: `envpw${tag}`, pgpass: `filepw${tag}`, settings: `setpw${tag}` };
const pattern = (s: string) => `[${s[0]}]${s.slice(1)}`;

const AGENT = (hostHome: string, bottleHome: string) => `#!/bin/sh
# A stand-in agent: what could it learn of the ledger's credentials?
out="$PWD/.seen"
env > "$out.env"
for dir in "$HOME" "$PWD" /tmp /run /etc /var /root ${JSON.stringify(hostHome)} ${JSON.stringify(bottleHome)}; do
  [ -e "$dir" ] && echo "$dir" >> "$out.dirs"
done
grep -rlsE ${Object.values(SECRETS).map((s) => `-e '${pattern(s)}'`).join(" ")} -e '[c]anary${tag}' \\
  "$HOME" "$PWD" /tmp /run /etc /var /root ${JSON.stringify(hostHome)} ${JSON.stringify(bottleHome)} /proc/[0-9]*/environ /proc/[0-9]*/cmdline \\
  2>/dev/null | grep -v "/\\.seen" | sort -u > "$out.hits"
echo done >> "$out.dirs"
`;

test("the fleet ledger's password, PGPASSWORD, ~/.pgpass and settings.yml reach no bottle's environment or files", async () => {
  const base = new URL(freshPgLedger());
  // The test cluster trusts loopback, so a wrong password still connects: the launch really uses the ledger.
  base.password = SECRETS.url;
  const url = base.toString();
  const home = freshHome();
  const hostHome = freshHome();
  writeFileSync(join(hostHome, ".pgpass"), `127.0.0.1:*:*:postgres:${SECRETS.pgpass}\n`, { mode: 0o600 });
  writeFileSync(join(home, "settings.yml"), `ledger: postgres://postgres:${SECRETS.settings}@127.0.0.1:1/unused\n`);
  const bin = join(freshHome(), "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "claude"), AGENT(hostHome, home));
  chmodSync(join(bin, "claude"), 0o755);
  const ws = freshWorkspace({ "notes.txt": `canary${tag}\n` });

  const r = await runCli(["run", "claude", "--headless", "--prompt", "look around", "--simulate", "--backend", "sandbox"], {
    home,
    cwd: ws,
    env: { HOME: hostHome, PATH: `${bin}:${process.env.PATH}`, BOTTLE_LEDGER_URL: url, PGPASSWORD: SECRETS.pgpassword },
    timeoutMs: 120_000,
  });
  expect(r.timedOut).toBe(false);
  if (r.code !== 0) throw new Error(`bottle run exited ${r.code}\n${r.stderr}`);
  // The run was recorded on the fleet ledger, whose password bottle's own messages never print.
  expect(r.stderr).not.toContain(SECRETS.url);
  const db = await openLedger({ path: url });
  try {
    expect(await db.selectFrom("runs").select(["agent", "state"]).execute()).toEqual([{ agent: "claude", state: "ended" }]);
  } finally {
    await db.destroy();
  }

  expect(readFileSync(join(ws, ".seen.dirs"), "utf8")).toContain("done");
  const env = readFileSync(join(ws, ".seen.env"), "utf8");
  expect(env).toContain("BOTTLE_RUN_ID="); // positive control: the bottle's own environment
  for (const s of Object.values(SECRETS)) expect(env).not.toContain(s);
  expect(env).not.toMatch(/^(PG[A-Z]*|BOTTLE_LEDGER_URL)=/m);
  const hits = readFileSync(join(ws, ".seen.hits"), "utf8").trim().split("\n").filter(Boolean);
  // The canary in the work tree is found; nothing else is.
  expect(hits).toEqual([join(ws, "notes.txt")]);
});
