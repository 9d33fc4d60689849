/**
 * The environment an agent needs to go through bottle's proxy: the proxy URL in every spelling clients
 * read, and the CA in every variable the supported CLIs and common tools read (DESIGN §7). Rendered as
 * POSIX `export` lines with single-quoted values, so a credential or path can never break out of a line.
 */

export interface AgentEnvInput {
  proxyUrl: string;
  /** bottle's CA certificate (PEM). */
  caCertPath: string;
  /** System roots plus bottle's CA, for tools that take one bundle. */
  bundlePath: string;
}

export function agentProxyEnv(o: AgentEnvInput): Record<string, string> {
  return {
    HTTPS_PROXY: o.proxyUrl,
    HTTP_PROXY: o.proxyUrl,
    https_proxy: o.proxyUrl,
    http_proxy: o.proxyUrl,
    NO_PROXY: "localhost,127.0.0.1,::1",
    no_proxy: "localhost,127.0.0.1,::1",
    // Node-based agents (Claude Code, pi) add this to their roots.
    NODE_EXTRA_CA_CERTS: o.caCertPath,
    // Codex reads its extra CA from here.
    CODEX_CA_CERTIFICATE: o.caCertPath,
    // OpenSSL-based tools replace their roots with this file, hence the bundle.
    SSL_CERT_FILE: o.bundlePath,
    REQUESTS_CA_BUNDLE: o.bundlePath,
    CURL_CA_BUNDLE: o.bundlePath,
  };
}

export function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
    .join("\n");
}
