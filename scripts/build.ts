/**
 * Compiles the self-contained `dist/bottle` executable with Bun.build({ compile }). By default it builds for
 * the host; `--all` builds the release matrix, `--target <t>` one target. The version is embedded with a
 * compile-time define so the binary needs no package.json beside it.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

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

const { targets, outdir } = parse(process.argv.slice(2));
mkdirSync(outdir, { recursive: true });
for (const t of targets) {
  const outfile = t === "host" ? join(outdir, "bottle") : join(outdir, `bottle-${t}`);
  const result = await Bun.build({
    entrypoints: ["src/cli/main.ts"],
    compile: t === "host" ? { outfile } : { outfile, target: `bun-${t}` as Bun.Build.CompileTarget },
    // Identifiers are kept: `--debug` stacks and error class names stay readable in the compiled binary.
    minify: { whitespace: true, syntax: true, identifiers: false },
    sourcemap: "linked",
    define: { BOTTLE_BUILD_VERSION: JSON.stringify(pkg.version) },
  });
  if (!result.success) {
    for (const l of result.logs) console.error(l);
    process.exit(1);
  }
  console.error(`built ${outfile}`);
}
