/**
 * bottle as a user gets it: the compiled binary, copied to a directory outside the repository, run with a
 * PATH that holds no Bun and no node_modules (every host tool but bun, plus a directory with just the
 * claude CLI), from a working directory with no source tree. `bottle doctor` says a run can start and
 * exits 0; a headless run against the simulated provider runs to its budget's cutoff with no --backend
 * (docker answers here but has no image and no registry, so it falls back to the sandbox); doctor then
 * finds the CA and the ledger the run created. Doctor exits 1, naming the check and the fix, when
 * settings.yml is broken, when the ledger is not a database, and when no backend can run any agent.
 */
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT_BUDGET_STOPPED } from "../../src/launch/types.ts";
import type { DoctorReport } from "../../src/doctor/types.ts";
import { AGENTS_BIN } from "../helpers/agent-suite.ts";
import { compiledBottle } from "../helpers/compiled-cli.ts";

setDefaultTimeout(180_000);

let root: string;
let bin: string;
let hostBin: string;
let agentBin: string;

beforeAll(async () => {
  root = mkdtempSync(join(process.env.TMPDIR!, "download-"));
  bin = join(root, "bottle");
  copyFileSync(await compiledBottle(), bin);
  // Every host tool except Bun: /usr/bin/bun would otherwise come with /usr/bin.
  hostBin = join(root, "host-bin");
  mkdirSync(hostBin);
  for (const dir of ["/usr/local/bin", "/usr/bin"]) {
    for (const name of readdirSync(dir)) {
      if (name === "bun" || name === "bunx") continue;
      try {
        symlinkSync(join(dir, name), join(hostBin, name));
      } catch {
        /* the same name from an earlier directory wins, as on PATH */
      }
    }
  }
  agentBin = join(root, "agents");
  mkdirSync(agentBin);
  symlinkSync(realpathSync(join(AGENTS_BIN, "claude")), join(agentBin, "claude"));
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function where(): { home: string; cwd: string } {
  const w = mkdtempSync(join(root, "user-"));
  for (const d of ["home", "bottle-home", "work"]) mkdirSync(join(w, d));
  return { home: join(w, "bottle-home"), cwd: join(w, "work") };
}

async function bottle(args: string[], w: { home: string; cwd: string; env?: Record<string, string> }, PATH = `${agentBin}:${hostBin}`): Promise<Result> {
  const env = { PATH, HOME: join(w.home, "..", "home"), BOTTLE_HOME: w.home, TMPDIR: process.env.TMPDIR!, NO_COLOR: "1", TZ: "UTC", COLUMNS: "200", ...w.env };
  const p = Bun.spawn([bin, ...args], { cwd: w.cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 150_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function check(r: DoctorReport, name: string) {
  return r.checks.find((c) => c.name === name);
}

test("the PATH holds no bun, and the binary sits outside the repository", () => {
  expect(Bun.which("bun", { PATH: `${agentBin}:${hostBin}` })).toBeNull();
  expect(Bun.which("claude", { PATH: `${agentBin}:${hostBin}` })).toBe(join(agentBin, "claude"));
  expect(statSync(bin).mode & 0o111).not.toBe(0);
});

test("doctor says a run can start; a headless simulated run is cut off by its budget; doctor then finds its CA and ledger", async () => {
  const w = where();
  const before = await bottle(["doctor"], w);
  expect(before.code, before.stdout + before.stderr).toBe(0);
  const lines = before.stdout.trim().split("\n");
  expect(lines.map((l) => l.split(/\s{2,}/)[1])).toEqual(["backend sandbox", "backend docker", "agent claude", "agent codex", "agent pi", "settings.yml", "manifests", "ca", "ledger", "runs"]);
  expect(lines).toContainEqual(expect.stringMatching(/^ok {4}agent claude {5}\S+\/claude 2\.1\.197$/));
  expect(lines).toContainEqual(expect.stringMatching(/^warn {2}agent codex {6}codex is not on PATH .* — fix: npm install -g @openai\/codex@/));
  expect(lines.at(-1)).toMatch(/^ok {4}runs\s+can start: claude \(sandbox/);

  const run = await bottle(["run", "claude", "--headless", "--prompt", "Say hello.", "--simulate", "--budget", "100"], w);
  expect(run.code, run.stderr).toBe(EXIT_BUDGET_STOPPED);
  expect(run.stderr).toMatch(/: claude in anthropic on (sandbox|docker), headless/);
  expect(run.stderr).toContain("was cut off by its budget");

  const after = JSON.parse((await bottle(["doctor", "--json"], w)).stdout) as DoctorReport;
  expect(after.ok).toBe(true);
  expect(check(after, "ca")?.detail).toMatch(/ca\.pem, valid until \d{4}-\d\d-\d\d; key mode 600$/);
  expect(check(after, "ledger")?.detail).toMatch(/bottle\.db: integrity ok, \d+ KB, 1 run$/);
});

test("doctor exits 1 naming the check and the fix: a broken settings.yml, a ledger that is not a database, no usable backend", async () => {
  const w = where();
  writeFileSync(join(w.home, "settings.yml"), "shutdown: pause\n");
  const bad = await bottle(["doctor", "--json"], w);
  expect(bad.code).toBe(1);
  const r = JSON.parse(bad.stdout) as DoctorReport;
  expect(r.ok).toBe(false);
  expect(check(r, "settings.yml")).toMatchObject({ status: "fail" });
  expect(check(r, "settings.yml")?.detail).toContain("shutdown");
  expect(check(r, "runs")).toMatchObject({ status: "fail", detail: "a run cannot start until settings.yml is fixed" });

  const w2 = where();
  writeFileSync(join(w2.home, "bottle.db"), "this is not a database, but it is long enough to look like a file header.....\n".repeat(20));
  const text = await bottle(["doctor"], w2);
  expect(text.code).toBe(1);
  expect(text.stdout).toMatch(/^FAIL {2}ledger\s+\S+bottle\.db cannot be opened: file is not a database — fix: move \S+ aside/m);

  // A fleet ledger that does not answer (nothing listens on port 1 of loopback): named, password hidden.
  const pg = await bottle(["doctor", "--json"], { ...where(), env: { BOTTLE_LEDGER_URL: "postgres://bottle:s3cret@127.0.0.1:1/ledger" } });
  expect(pg.code).toBe(1);
  const pgLedger = check(JSON.parse(pg.stdout) as DoctorReport, "ledger");
  expect(pgLedger?.status).toBe("fail");
  expect(pgLedger?.detail).toStartWith("postgres://bottle:***@127.0.0.1:1/ledger cannot be opened:");
  expect(pg.stdout).not.toContain("s3cret");

  // No bwrap, no docker, no agent CLI: nothing can run here.
  const bare = join(root, "bare-bin");
  mkdirSync(bare);
  for (const t of ["sh", "env", "cat", "ls"]) symlinkSync(join("/usr/bin", t), join(bare, t));
  const none = await bottle(["doctor"], where(), bare);
  expect(none.code).toBe(1);
  expect(none.stdout).toMatch(/^warn {2}backend sandbox\s+bubblewrap \(bwrap\) is not installed — fix: install it: apt-get install bubblewrap/m);
  expect(none.stdout).toMatch(/^FAIL {2}runs\s+no backend here can run any agent — fix: /m);
});
