/**
 * The CLI's contract as a user meets it, on the compiled binary: --help and --version on stdout with exit
 * 0; an unknown command or flag is one error line on stderr with a did-you-mean and exit 2; --debug adds a
 * stack only to errors. The binary runs from a directory with no source tree or node_modules.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { join } from "node:path";
import { cliEnv, runCompiled } from "../helpers/compiled-cli.ts";

// The first test compiles the binary (seconds on a loaded 2-core machine).
setDefaultTimeout(60_000);

describe("the compiled bottle binary", () => {
  test("--version prints the embedded version, commit and target", async () => {
    const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: join(import.meta.dir, "../..") }).stdout.toString().trim();
    for (const flag of ["--version", "-v"]) {
      const r = await runCompiled([flag], cliEnv());
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      // The commit is the built one (with -dirty when the tree had changes), the target the host's.
      expect(r.stdout).toMatch(new RegExp(`^${pkg.version.replace(/\./g, "\\.")} \\(commit ${head}(-dirty)?, ${process.platform}-${process.arch}\\)\n$`));
    }
  });

  test("--help lists the commands on stdout", async () => {
    const r = await runCompiled(["--help"], cliEnv());
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    for (const c of ["agents", "bottles", "budget", "ca", "proxy", "ps"]) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\s{2,}\\S`, "m"));
    expect(r.stdout).not.toContain("\u001b["); // NO_COLOR
    const sub = await runCompiled(["bottles", "show", "--help"], cliEnv());
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain("--json");
  });

  test("help piped to a file is plain text even without NO_COLOR, and names the full invocation", async () => {
    const env: Record<string, string> = { PATH: process.env.PATH!, HOME: process.env.HOME!, TMPDIR: process.env.TMPDIR!, BOTTLE_HOME: cliEnv().home };
    const p = Bun.spawn(["bun", join(import.meta.dir, "../../src/cli/main.ts"), "budget", "set", "--help"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(out).not.toContain("\u001b[");
    expect(out).toContain("USAGE bottle budget set [OPTIONS]");
  });

  test("an unknown command gets a did-you-mean and exit 2", async () => {
    expect(await runCompiled(["agnets"], cliEnv())).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: unknown command `bottle agnets` — did you mean `bottle agents`? Run `bottle --help` for the list.\n",
    });
    const nested = await runCompiled(["bottles", "shwo", "web"], cliEnv());
    expect(nested.code).toBe(2);
    expect(nested.stderr).toBe("error: unknown command `bottle bottles shwo` — did you mean `bottle bottles show`? Run `bottle bottles --help` for the list.\n");
  });

  test("an unknown flag gets a did-you-mean and exit 2", async () => {
    expect(await runCompiled(["agents", "--jsno"], cliEnv())).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: unknown flag --jsno for `bottle agents` — did you mean --json? See `bottle agents --help`.\n",
    });
    const far = await runCompiled(["bottles", "--zzz"], cliEnv());
    expect(far).toEqual({ code: 2, stdout: "", stderr: "error: unknown flag --zzz for `bottle bottles` — see `bottle bottles --help`.\n" });
  });

  test("--debug adds a stack to an error; without it the error is one line", async () => {
    const plain = await runCompiled(["bottles", "show", "nope"], cliEnv());
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split("\n")).toHaveLength(1);
    const debug = await runCompiled(["--debug", "bottles", "show", "nope"], cliEnv());
    expect(debug.code).toBe(1);
    expect(debug.stderr).toStartWith('error: unknown bottle "nope"');
    expect(debug.stderr).toContain("src/manifest/compose.ts"); // the stack, source-mapped
    expect(debug.stderr).toContain("ManifestError: unknown bottle"); // class names survive the compiled build
    expect(debug.stderr.trim().split("\n").length).toBeGreaterThan(2);
  });
});
