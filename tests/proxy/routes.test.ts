import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { parseClientHello } from "../../src/proxy/client-hello.ts";
import { decide, hostMatches, upstreamUrl, tunnelTarget } from "../../src/proxy/routes.ts";
import { validateRoutes } from "../../src/proxy/validate-routes.ts";
import { upstreamRequestHeaders, clientResponseHeaders, resolveAuth } from "../../src/proxy/headers.ts";
import { ProxyError } from "../../src/errors.ts";

describe("route decisions", () => {
  const routes = [
    { host: "api.anthropic.com" },
    { host: "*.githubusercontent.com", mitm: false },
    { host: "gateway.corp", upstream: "https://gw.corp/anthropic", auth: { header: "x-api-key", env: "K" } },
  ];

  test("OpenAI's regional API hosts are known API hosts: a tunnel or a plain route for the vendor's domain meters them", () => {
    const vendor = [{ host: "*.openai.com", mitm: false }];
    for (const h of ["eu.api.openai.com", "JP.api.openai.com.", "ae.api.openai.com"]) {
      expect(decide(vendor, h)).toEqual({ kind: "mitm", route: vendor[0]!, provider: "codex" });
      expect(decide([{ host: h }], h, "pi")).toEqual({ kind: "mitm", route: { host: h }, provider: "pi" });
    }
    // The vendor's other hosts keep the route's choice, and a route may not tunnel the regional hosts.
    expect(decide(vendor, "cdn.openai.com")).toEqual({ kind: "tunnel", route: vendor[0]! });
    expect(decide(vendor, "api.openai.com.evil.example")).toEqual({ kind: "deny", reason: expect.any(String) });
    expect(() => validateRoutes([{ host: "*.api.openai.com", mitm: false }], {})).toThrow(ProxyError);
    expect(() => validateRoutes([{ host: "eu.api.openai.com", mitm: false }], {})).toThrow(ProxyError);
  });

  test("a metered route is intercepted and the known API host names its provider", () => {
    expect(decide(routes, "API.Anthropic.com.")).toEqual({ kind: "mitm", route: routes[0]!, provider: "claude" });
  });

  test("mitm: false tunnels, and wildcards match subdomains only", () => {
    expect(decide(routes, "raw.githubusercontent.com").kind).toBe("tunnel");
    expect(decide(routes, "githubusercontent.com").kind).toBe("deny");
    expect(hostMatches("*.example.com", "a.b.example.com")).toBe(true);
    expect(hostMatches("*.example.com", "badexample.com")).toBe(false);
  });

  test("an unknown host is denied with a reason that names it", () => {
    const d = decide(routes, "evil.example");
    expect(d).toEqual({ kind: "deny", reason: expect.stringContaining("evil.example is not on this bottle's egress allowlist") });
  });

  test("a gateway route is attributed to the run's provider", () => {
    expect(decide(routes, "gateway.corp", "claude")).toMatchObject({ kind: "mitm", provider: "claude" });
  });

  test("one key per budget: a run's usage on any metered host counts under the run's provider", () => {
    // pi calling Anthropic's API spends pi tokens (the key a pi budget is written under).
    expect(decide(routes, "api.anthropic.com", "pi")).toMatchObject({ kind: "mitm", provider: "pi" });
    expect(decide([{ host: "api.openai.com" }], "api.openai.com", "pi")).toMatchObject({ kind: "mitm", provider: "pi" });
    // Without a run provider (bottle proxy with no --provider), the host's provider.
    expect(decide([{ host: "api.openai.com" }], "api.openai.com")).toMatchObject({ kind: "mitm", provider: "codex" });
    // A MITM'd host that is not metered stays unmetered whatever the run's provider.
    expect(decide([{ host: "files.example" }], "files.example", "pi")).toEqual({ kind: "mitm", route: { host: "files.example" } });
  });

  test("known API hosts are intercepted even when a route says mitm: false, and such a route is rejected up front", () => {
    expect(decide([{ host: "api.openai.com", mitm: false }], "api.openai.com").kind).toBe("mitm");
    expect(() => validateRoutes([{ host: "api.openai.com", mitm: false }], {})).toThrow(ProxyError);
  });

  test("upstream: rewrites the base URL and keeps its path prefix", () => {
    expect(upstreamUrl(routes[2], "https", "gateway.corp", 443, "/v1/messages?beta=1")).toBe("https://gw.corp/anthropic/v1/messages?beta=1");
    expect(upstreamUrl(routes[0], "https", "api.anthropic.com", 443, "/v1/messages")).toBe("https://api.anthropic.com/v1/messages");
    expect(upstreamUrl(undefined, "http", "::1", 8080, "/x")).toBe("http://[::1]:8080/x");
    expect(tunnelTarget({ host: "x", upstream: "https://127.0.0.1:9443" }, "x", 443)).toEqual({ host: "127.0.0.1", port: 9443 });
  });

  test("route validation names the field and the fix", () => {
    try {
      validateRoutes([{ host: "a.b" }, { host: "gw", auth: { header: "x-api-key", env: "MISSING_SECRET" } }], {});
      throw new Error("expected a ProxyError");
    } catch (e) {
      expect(e).toBeInstanceOf(ProxyError);
      expect((e as ProxyError).context.key).toBe("egress.routes[1].auth.env");
      expect((e as ProxyError).context.fix).toContain("MISSING_SECRET");
    }
    expect(() => validateRoutes([{ host: "a", upstream: "ftp://x" }], {})).toThrow(/invalid upstream/);
  });
});

describe("header rewriting", () => {
  test("secret custody strips every placeholder credential and injects the host's secret", () => {
    const auth = resolveAuth({ header: "authorization", env: "S", prefix: "Bearer " }, { S: "real-secret" })!;
    const h = upstreamRequestHeaders(new Headers({ authorization: "Bearer placeholder", "x-api-key": "placeholder", "proxy-authorization": "Basic x", connection: "keep-alive, x-hop", "x-hop": "1", "anthropic-version": "2023-06-01" }), auth);
    expect(h.get("authorization")).toBe("Bearer real-secret");
    expect(h.get("x-api-key")).toBeNull();
    expect(h.get("proxy-authorization")).toBeNull();
    expect(h.get("x-hop")).toBeNull();
    expect(h.get("anthropic-version")).toBe("2023-06-01");
    expect(h.get("accept-encoding")).toBe("identity");
  });

  test("responses never carry a content-encoding or length that no longer matches the body", () => {
    const h = clientResponseHeaders(new Headers({ "content-encoding": "gzip", "content-length": "10", "content-type": "text/event-stream", "request-id": "r" }));
    expect(h.get("content-encoding")).toBeNull();
    expect(h.get("content-length")).toBeNull();
    expect(h.get("request-id")).toBe("r");
  });
});

/** Captures the first bytes a real TLS client sends. */
async function realClientHello(servername: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const srv = createServer((s) => {
      s.once("data", (d: Buffer) => {
        resolve(new Uint8Array(d));
        s.destroy();
        srv.close();
      });
    });
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      const c = tlsConnect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
      c.on("error", () => {});
      setTimeout(() => reject(new Error("no ClientHello")), 5000).unref();
    });
  });
}

describe("ClientHello parsing", () => {
  test("finds the SNI of a real TLS client", async () => {
    const hello = await realClientHello("api.anthropic.com");
    expect(parseClientHello(hello)).toEqual({ kind: "hello", sni: "api.anthropic.com" });
    expect(parseClientHello(hello.subarray(0, 3))).toEqual({ kind: "incomplete" });
    expect(parseClientHello(hello.subarray(0, 40))).toEqual({ kind: "incomplete" });
  });

  test("rejects bytes that are not a TLS handshake", () => {
    expect(parseClientHello(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")).kind).toBe("not-tls");
    expect(parseClientHello(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0, 0, 0, 0])).kind).toBe("not-tls");
  });
});
