/**
 * A compiled bottle executable finds itself for the in-bottle bridge: compile a small entry that uses the
 * sandbox backend, run it, and check that a request crossed the bridge it started from its own binary.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { echoProxy, freshWorkspace, REPO } from "../helpers/bottles.ts";

const proxy = echoProxy();
afterAll(() => proxy.stop());

test("a compiled binary re-invokes itself as the bridge inside the sandbox", async () => {
  const outfile = join(process.env.TMPDIR!, "compiled-bottle");
  const built = await Bun.build({ entrypoints: [join(REPO, "tests/fixtures/compiled-bottle.ts")], compile: { outfile } });
  expect(built.success).toBe(true);
  const p = Bun.spawn([outfile, proxy.socketPath, freshWorkspace(), "http://compiled.example/z"], { stdout: "pipe", stderr: "pipe", env: process.env });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const r = JSON.parse(out);
  expect(r.self).toEqual({ argv: [outfile], files: [outfile], compiled: true });
  expect(r).toMatchObject({ exitCode: 0, stdout: "via-proxy GET http://compiled.example/z\n", stderr: "" });
}, 60_000);
