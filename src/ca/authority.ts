/**
 * The proxy's certificate authority. bottle terminates TLS for metered hosts, so agents must trust a CA that
 * bottle owns. It is generated once (node-forge, 10 years) under `$BOTTLE_HOME/ca`: `ca.pem` is what agents
 * are told to trust, `ca.key` (mode 0600, directory 0700) never leaves the host and is never copied into a
 * bottle. Creation is race-safe: two processes starting at once end up with the same CA, because the key is
 * published with an exclusive hard link and the loser adopts the winner's files.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import forge from "node-forge";
import { ProxyError } from "../errors.ts";

export interface CertificateAuthority {
  dir: string;
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

const TEN_YEARS_MS = 10 * 365.25 * 24 * 3600 * 1000;

export function caFiles(dir: string): { certPath: string; keyPath: string } {
  return { certPath: join(dir, "ca.pem"), keyPath: join(dir, "ca.key") };
}

/** A positive random serial (RFC 5280: at most 20 octets, non-negative). */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString("hex");
}

/** An RSA key from node:crypto (fast), handed to forge as PEM. */
export function generateRsaKeyPem(bits = 2048): string {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

function buildCaCert(keyPem: string, commonName: string, now = Date.now()): string {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + TEN_YEARS_MS);
  const attrs = [
    { name: "commonName", value: commonName },
    { name: "organizationName", value: "bottle" },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

function parse(dir: string, certPem: string, keyPem: string): CertificateAuthority {
  const { certPath, keyPath } = caFiles(dir);
  try {
    const cert = forge.pki.certificateFromPem(certPem);
    const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
    return { dir, certPath, keyPath, certPem, keyPem, cert, key };
  } catch (e) {
    throw new ProxyError(`the proxy CA in ${dir} cannot be read`, {
      file: certPath,
      fix: `remove ${dir} to let bottle generate a new CA (agents must then trust the new ca.pem)`,
    }, { cause: e });
  }
}

function readWhenComplete(dir: string): CertificateAuthority | undefined {
  const { certPath, keyPath } = caFiles(dir);
  if (!existsSync(keyPath)) return undefined;
  // Another process may have published the key and not yet the certificate: wait for it briefly.
  for (let i = 0; i < 200 && !existsSync(certPath); i++) Bun.sleepSync(10);
  if (!existsSync(certPath)) {
    throw new ProxyError(`the proxy CA in ${dir} has a key but no certificate`, {
      file: certPath,
      fix: `remove ${dir} to let bottle generate a new CA`,
    });
  }
  return parse(dir, readFileSync(certPath, "utf8"), readFileSync(keyPath, "utf8"));
}

/** Loads the CA from `dir`, creating it on first use. */
export function loadOrCreateCa(dir: string, commonName = `bottle proxy CA (${hostname()})`): CertificateAuthority {
  const existing = readWhenComplete(dir);
  if (existing) return existing;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const { certPath, keyPath } = caFiles(dir);
  const keyPem = generateRsaKeyPem();
  const certPem = buildCaCert(keyPem, commonName);
  const tag = `${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const keyTmp = `${keyPath}.${tag}`;
  const certTmp = `${certPath}.${tag}`;
  writeFileSync(keyTmp, keyPem, { mode: 0o600 });
  writeFileSync(certTmp, certPem, { mode: 0o644 });
  try {
    linkSync(keyTmp, keyPath); // exclusive: fails if another process won the race
  } catch {
    rmSync(keyTmp, { force: true });
    rmSync(certTmp, { force: true });
    const theirs = readWhenComplete(dir);
    if (theirs) return theirs;
    throw new ProxyError(`could not create the proxy CA in ${dir}`, { fix: `check that ${dir} is writable` });
  }
  rmSync(keyTmp, { force: true });
  renameSync(certTmp, certPath);
  return parse(dir, certPem, keyPem);
}
