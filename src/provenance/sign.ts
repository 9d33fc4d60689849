/**
 * The host's signing key: an Ed25519 key pair made on first use beside the proxy CA, under
 * `$BOTTLE_HOME/ca` (directory 0700, private key 0600). Like the CA key it never enters a bottle: the
 * bottle never sees anything under `$BOTTLE_HOME`, so an agent cannot sign a record of its own. The key id
 * is the SHA-256 of the public key's DER encoding, which is what a team pins (docs/provenance.md).
 * Creation is race-safe the same way the CA's is: the private key is published with an exclusive hard link.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProvenanceError } from "../errors.ts";
import { sha256Hex } from "./canonical.ts";

export interface SigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
  keyPath: string;
}

export function signingKeyFiles(caDir: string): { keyPath: string; pubPath: string } {
  return { keyPath: join(caDir, "signing.key"), pubPath: join(caDir, "signing.pub") };
}

/** `ed25519:<hex SHA-256 of the SPKI DER>`: stable, short enough to pin, independent of PEM line wrapping. */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
  return `ed25519:${sha256Hex(der)}`;
}

/** The PEM text node:crypto writes for `pem`'s public key. */
export function canonicalPem(pem: string): string {
  return createPublicKey(pem).export({ type: "spki", format: "pem" }).toString();
}

function load(keyPath: string): SigningKey {
  try {
    const privateKey = createPrivateKey(readFileSync(keyPath, "utf8"));
    if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`not an Ed25519 key (${privateKey.asymmetricKeyType})`);
    const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
    return { privateKey, publicKeyPem, keyId: keyIdOf(publicKeyPem), keyPath };
  } catch (e) {
    throw new ProvenanceError(`the signing key ${keyPath} cannot be read: ${(e as Error).message}`, {
      file: keyPath,
      fix: `remove ${keyPath} to let bottle make a new one (records signed with the old key then verify only against its pinned public key)`,
    });
  }
}

/** The host's signing key in `caDir`, made on first use. */
export function loadOrCreateSigningKey(caDir: string): SigningKey {
  const { keyPath, pubPath } = signingKeyFiles(caDir);
  // A key put in place by hand (restored from a CI secret) gets its public half written beside it.
  if (existsSync(keyPath)) return withPublicFile(load(keyPath), pubPath);
  mkdirSync(caDir, { recursive: true, mode: 0o700 });
  chmodSync(caDir, 0o700);
  const pair = generateKeyPairSync("ed25519");
  const pem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const tmp = `${keyPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, pem, { mode: 0o600 });
  try {
    linkSync(tmp, keyPath); // exclusive: another process may have won the race; then its key is the key
  } catch {
    /* adopt the winner's key below */
  } finally {
    rmSync(tmp, { force: true });
  }
  return withPublicFile(load(keyPath), pubPath);
}

function withPublicFile(key: SigningKey, pubPath: string): SigningKey {
  if (existsSync(pubPath) && readFileSync(pubPath, "utf8") === key.publicKeyPem) return key;
  const pubTmp = `${pubPath}.${process.pid}.tmp`;
  writeFileSync(pubTmp, key.publicKeyPem, { mode: 0o644 });
  renameSync(pubTmp, pubPath);
  return key;
}

/** This host's key id, from its private key (when there is one), without making a key. */
export function hostKeyId(caDir: string): string | undefined {
  const { keyPath } = signingKeyFiles(caDir);
  return existsSync(keyPath) ? load(keyPath).keyId : undefined;
}

export function signText(key: SigningKey, text: string): string {
  return sign(null, Buffer.from(text, "utf8"), key.privateKey).toString("base64");
}

/** Whether `signature` (base64) is `publicKeyPem`'s Ed25519 signature of `text`; false on any malformed input. */
export function verifyText(publicKeyPem: string, text: string, signature: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== "ed25519") return false;
    return verify(null, Buffer.from(text, "utf8"), key, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
