/**
 * What a bottle's process table and mount table tell the agent about the host. The command lines of every
 * process inside (PID 1 included) name no host path of bottle's state: not $BOTTLE_HOME, not the run id,
 * not the proxy's socket directory. Before, the sandbox's PID 1 was bwrap with its whole command line,
 * which named all three. The mount table cannot be hidden (the kernel shows each bind mount's source path
 * within its file system), so the test pins down exactly what remains, as docs/backends.md says: the run
 * home's source and the proxy socket's, and nothing else of $BOTTLE_HOME (the sandbox makes the CA
 * certificate from data; docker mounts its file, so there the certificate's path is a third) or of the
 * socket directory.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { dirname } from "node:path";
import { echoProxy, freshWorkspace, planFor } from "../helpers/bottles.ts";
import { bottleCa } from "../support/proxy-fixture.ts";
import { BACKENDS, bottles } from "./bottles.ts";

setDefaultTimeout(120_000);

const proxy = echoProxy();
const box = bottles();
const BOTTLE_HOME = process.env.BOTTLE_HOME!;
afterEach(() => box.closeAll(), 120_000);
afterAll(() => {
  proxy.stop();
});

for (const kind of BACKENDS) {
  describe(`${kind}: process command lines`, () => {
    test("no process inside, PID 1 included, shows $BOTTLE_HOME, the run id or the proxy's socket directory", async () => {
      const h = await box.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace() }));
      const r = await box.run(h, ["sh", "-c", 'for p in /proc/[0-9]*; do cat "$p/cmdline" 2>/dev/null; echo; done']);
      const cmdlines = r.stdout.replaceAll("\0", " ");
      expect(cmdlines).toContain("__bridge"); // positive control: PID 1's or the bridge's line was read
      expect(cmdlines).not.toContain(BOTTLE_HOME);
      expect(cmdlines).not.toContain(h.runId);
      expect(cmdlines).not.toContain(dirname(proxy.socketPath));
    });
  });
}

for (const kind of BACKENDS) {
  describe(`${kind}: the mount table`, () => {
    test("names $BOTTLE_HOME only as the sources of the run home (and docker's CA certificate), the socket directory only as the socket's", async () => {
      const h = await box.open(kind, planFor({ proxySocket: proxy.socketPath, cwd: freshWorkspace(), caCertPath: bottleCa().certPath }));
      const r = await box.run(h, ["sh", "-c", "cat /proc/self/mountinfo; cat /run/bottle/ca.pem"]);
      expect(r.stdout).toContain(bottleCa().certPem.trim()); // the certificate is there (the sandbox makes it from data)
      const lines = r.stdout.split("-----BEGIN")[0]!.trim().split("\n");
      expect(lines.length).toBeGreaterThan(5);
      const source = (l: string) => l.split(" ")[3]!;
      const target = (l: string) => l.split(" ")[4]!;
      // A source is a path within its own file system (where /tmp is a tmpfs it lacks the /tmp prefix), so
      // each is matched by its last components, which are unique to this test run.
      const tail = (p: string, n: number) => p.split("/").slice(-n).join("/");
      const naming = (s: string) => lines.filter((l) => source(l).includes(s) || target(l).includes(s)).map((l) => target(l));
      // docker bind-mounts the certificate's file; the sandbox writes it from data.
      expect(naming(tail(BOTTLE_HOME, 2))).toEqual(kind === "docker" ? ["/home/bottle", "/run/bottle/ca.pem"] : ["/home/bottle"]);
      expect(naming(h.runId)).toEqual(["/home/bottle"]);
      expect(lines.find((l) => target(l) === "/home/bottle")!.split(" ")[3]).toEndWith(tail(h.hostHome, 3));
      expect(naming(tail(dirname(proxy.socketPath), 1))).toEqual(["/run/bottle/proxy.sock"]);
    });
  });
}
