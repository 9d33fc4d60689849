/**
 * Leaf certificates for the hosts the proxy intercepts. Signing with node-forge costs ~45 ms, so every leaf
 * shares one RSA key (generated once per process) and each host's certificate is cached for the life of the
 * process. Each leaf names its host in the SAN (DNS or IP) and is marked for serverAuth only.
 */
import { isIP } from "node:net";
import forge from "node-forge";
import { generateRsaKeyPem, randomSerial, type CertificateAuthority } from "./authority.ts";

export interface LeafCert {
  host: string;
  certPem: string;
  keyPem: string;
}

const DAY_MS = 24 * 3600 * 1000;

export class LeafIssuer {
  readonly keyPem: string;
  private readonly key: forge.pki.rsa.PrivateKey;
  private readonly cache = new Map<string, LeafCert>();

  constructor(private readonly ca: CertificateAuthority) {
    this.keyPem = generateRsaKeyPem();
    this.key = forge.pki.privateKeyFromPem(this.keyPem) as forge.pki.rsa.PrivateKey;
  }

  /** The certificate for `host` (lowercased), issued on first use and cached. */
  issue(host: string): LeafCert {
    const h = host.toLowerCase();
    const hit = this.cache.get(h);
    if (hit) return hit;
    const leaf: LeafCert = { host: h, certPem: this.sign(h), keyPem: this.keyPem };
    this.cache.set(h, leaf);
    return leaf;
  }

  private sign(host: string, now = Date.now()): string {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(this.key.n, this.key.e);
    cert.serialNumber = randomSerial();
    cert.validity.notBefore = new Date(now - DAY_MS);
    // Under 398 days: the longest validity TLS clients accept for a leaf.
    cert.validity.notAfter = new Date(now + 397 * DAY_MS);
    cert.setSubject([{ name: "commonName", value: host }]);
    cert.setIssuer(this.ca.cert.subject.attributes);
    const altName = isIP(host) ? { type: 7, ip: host } : { type: 2, value: host };
    cert.setExtensions([
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [altName] },
      { name: "subjectKeyIdentifier" },
      { name: "authorityKeyIdentifier", keyIdentifier: this.ca.cert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(this.ca.key, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  }
}
