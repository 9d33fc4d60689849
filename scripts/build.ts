/**
 * Compiles the self-contained `dist/bottle` executable with Bun.build({ compile }). By default it builds for
 * the host; `--all` builds the release matrix, `--target <t>` one target. The version, the commit and the
 * target are embedded with compile-time defines so the binary needs no package.json (or git) beside it.
 *
 * A release (`--all`) is what a user downloads: the binaries, a SHA256SUMS file over exactly those binaries
 * (`sha256sum --check SHA256SUMS` verifies them), and the source maps kept apart in sourcemaps/ so that
 * nobody downloads 8 MB of maps by mistake and a glob over bottle-* finds only executables.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, existsSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { BUILD_OPTIONS } from "./build-options.ts";

const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
type Target = (typeof TARGETS)[number];

function parse(argv: string[]): { targets: (Target | "host")[]; outdir: string } {
  let targets: (Target | "host")[] = ["host"];
  let outdir = "dist";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--all") targets = [...TARGETS];
    else if (a === "--target") {
      const t = argv[++i];
      if (!t || !(TARGETS as readonly string[]).includes(t)) {
        console.error(`scripts/build.ts: --target must be one of ${TARGETS.join(", ")}`);
        process.exit(2);
      }
      targets = [t as Target];
    } else if (a === "--outdir") outdir = argv[++i] ?? outdir;
    else {
      console.error(`scripts/build.ts: unknown flag ${a} (use --all, --target <t>, --outdir <dir>)`);
      process.exit(2);
    }
  }
  return { targets, outdir };
}

/** The commit being built (short hash, `-dirty` when the tree has changes), or "unknown" outside git. */
function commit(): string {
  const rev = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: join(import.meta.dir, ".."), stderr: "ignore" });
  if (rev.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: join(import.meta.dir, ".."), stderr: "ignore" });
  return `${rev.stdout.toString().trim()}${dirty.exitCode === 0 && dirty.stdout.toString().trim() !== "" ? "-dirty" : ""}`;
}

const hostTarget = `${process.platform}-${process.arch}`;
const { targets, outdir } = parse(process.argv.slice(2));
const rev = commit();
const maps = join(outdir, "sourcemaps");
mkdirSync(maps, { recursive: true });
const built: string[] = [];
for (const t of targets) {
  const outfile = t === "host" ? join(outdir, "bottle") : join(outdir, `bottle-${t}`);
  const result = await Bun.build({
    entrypoints: ["src/cli/main.ts"],
    compile: t === "host" ? { outfile } : { outfile, target: `bun-${t}` as Bun.Build.CompileTarget },
    ...BUILD_OPTIONS,
    sourcemap: "linked",
    define: {
      BOTTLE_BUILD_VERSION: JSON.stringify(pkg.version),
      BOTTLE_BUILD_COMMIT: JSON.stringify(rev),
      BOTTLE_BUILD_TARGET: JSON.stringify(t === "host" ? hostTarget : t),
    },
  });
  if (!result.success) {
    for (const l of result.logs) console.error(l);
    process.exit(1);
  }
  // The map is written beside the binary; it belongs with the other maps, not with what users download.
  if (existsSync(`${outfile}.map`)) renameSync(`${outfile}.map`, join(maps, `${basename(outfile)}.map`));
  built.push(outfile);
  console.error(`built ${outfile}`);
}
if (targets.length > 1) {
  const sums = built.map((f) => `${createHash("sha256").update(readFileSync(f)).digest("hex")}  ${basename(f)}\n`).join("");
  writeFileSync(join(outdir, "SHA256SUMS"), sums);
  console.error(`wrote ${join(outdir, "SHA256SUMS")} (${built.length} binaries; source maps in ${maps})`);
}
