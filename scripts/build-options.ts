/**
 * How the JavaScript inside the `bottle` binary is compiled, shared by scripts/build.ts and bench/startup.ts
 * so the benchmark measures exactly what ships.
 *
 * - bytecode: the bundle is stored as precompiled JavaScriptCore bytecode, so a start skips parsing ~4 MB of
 *   JavaScript (most of it the o200k tokenizer table, which only `bottle run`'s estimate loads). It makes
 *   `bottle --version` 5–6× faster and the binary ~13 MB larger (docs/benchmarks.md, "Start time").
 *   Bytecode needs an explicit module format; ESM keeps main.ts's top-level await.
 * - minify: whitespace and syntax only. Identifiers are kept: `--debug` stacks and error class names stay
 *   readable, and minifying them measured no faster start and under 1% smaller.
 * - the source map (set in build.ts, "linked"): Bun embeds it in the executable (~3.6 MB, under 3% of it),
 *   which is what turns a `--debug` stack into src/ files and lines; it is kept for that. The `.map` file
 *   itself is not part of the download (build.ts moves it to sourcemaps/).
 */
export const BUILD_OPTIONS = {
  format: "esm",
  bytecode: true,
  minify: { whitespace: true, syntax: true, identifiers: false },
} as const;
