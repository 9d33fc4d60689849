import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { loadOrCreateCa } from "../../src/ca/authority.ts";
import { LeafIssuer } from "../../src/ca/leaf.ts";

const tmp = () => mkdtempSync(join(process.env.TMPDIR!, "ca-"));

describe("proxy CA", () => {
  test("is created on first use with a 0600 key in a 0700 directory and a 10-year CA certificate", () => {
    const dir = join(tmp(), "ca");
    const ca = loadOrCreateCa(dir);
    expect(statSync(ca.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const x = new X509Certificate(ca.certPem);
    expect(x.ca).toBe(true);
    const years = (Date.parse(x.validTo) - Date.now()) / (365.25 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(9.9);
    expect(years).toBeLessThan(10.1);
  });

  test("is loaded, not regenerated, on the next use", () => {
    const dir = join(tmp(), "ca");
    const a = loadOrCreateCa(dir);
    const b = loadOrCreateCa(dir);
    expect(b.certPem).toBe(a.certPem);
    expect(b.keyPem).toBe(a.keyPem);
  });

  test("two processes creating it at once end up with the same CA", async () => {
    const dir = join(tmp(), "ca");
    const script = `import { loadOrCreateCa } from ${JSON.stringify(join(import.meta.dir, "../../src/ca/authority.ts"))}; process.stdout.write(loadOrCreateCa(${JSON.stringify(dir)}).certPem);`;
    const procs = [0, 1, 2].map(() => Bun.spawn(["bun", "-e", script], { env: process.env, stdout: "pipe", stderr: "inherit" }));
    const outs = await Promise.all(procs.map((p) => new Response(p.stdout).text()));
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0]);
    expect(new Set(outs).size).toBe(1);
    expect(outs[0]).toBe(loadOrCreateCa(dir).certPem);
  });

  test("leaf certificates chain to the CA, name the host in the SAN, are serverAuth only, share one key and are cached", () => {
    const ca = loadOrCreateCa(join(tmp(), "ca"));
    const issuer = new LeafIssuer(ca);
    const a = issuer.issue("api.anthropic.com");
    const b = issuer.issue("API.anthropic.com");
    const ip = issuer.issue("127.0.0.1");
    expect(b).toBe(a);
    expect(ip.keyPem).toBe(a.keyPem);
    const x = new X509Certificate(a.certPem);
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(x.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(x.subjectAltName).toBe("DNS:api.anthropic.com");
    expect(x.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(x.ca).toBe(false);
    expect(x.checkHost("api.anthropic.com")).toBe("api.anthropic.com");
    expect(new X509Certificate(ip.certPem).checkIP("127.0.0.1")).toBe("127.0.0.1");
  });
});

describe("bottle ca path", () => {
  test("prints the certificate path under $BOTTLE_HOME/ca and creates the CA", async () => {
    const home = tmp();
    const p = Bun.spawn(["bun", join(import.meta.dir, "../../src/cli/main.ts"), "ca", "path"], { env: { ...process.env, BOTTLE_HOME: home }, stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    expect(await p.exited).toBe(0);
    expect(out).toBe(`${join(home, "ca", "ca.pem")}\n`);
    expect(new X509Certificate(await Bun.file(out.trim()).text()).ca).toBe(true);
  });
});
