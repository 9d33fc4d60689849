/**
 * A trust bundle for tools that take a single CA file (SSL_CERT_FILE, REQUESTS_CA_BUNDLE): the system's
 * roots plus bottle's CA. Pointing those variables at bottle's CA alone would break every tunneled
 * (`mitm: false`) host, whose certificates chain to public roots.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import type { CertificateAuthority } from "./authority.ts";

export function writeCaBundle(ca: CertificateAuthority): string {
  const path = join(ca.dir, "bundle.pem");
  const text = `${[...rootCertificates, ca.certPem.trim()].join("\n")}\n`;
  if (!existsSync(path) || readFileSync(path, "utf8") !== text) writeFileSync(path, text, { mode: 0o644 });
  return path;
}
