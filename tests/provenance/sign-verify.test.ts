/**
 * Canonical JSON, the host's signing key, and what `verify` accepts, on real files and real Ed25519 keys:
 * the key is made once beside the CA with mode 0600 and reused; a record verifies against this host's
 * key and against a pinned key id or public key, and fails — naming why — when it is signed by a key
 * nobody pinned, when a trust file is malformed, or when the signature or key is spelled differently.
 */
import { expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProvenanceError } from "../../src/errors.ts";
import { canonicalJson, CanonicalJsonError } from "../../src/provenance/canonical.ts";
import { RECORD_SCHEMA, type ProvenanceRecord } from "../../src/provenance/record.ts";
import { loadOrCreateSigningKey, signingKeyFiles, signText } from "../../src/provenance/sign.ts";
import { signedText } from "../../src/provenance/store.ts";
import { checkRecordText, hostTrust, readTrustFile } from "../../src/provenance/index.ts";
import { freshHome } from "../support/cli.ts";

test("canonical JSON sorts keys, drops undefined, and refuses what JSON cannot carry", () => {
  expect(canonicalJson({ b: 1, a: [true, null, "x"], c: undefined, d: { z: -0, y: 1.5 } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":1.5,"z":0}}');
  expect(() => canonicalJson({ a: Number.NaN })).toThrow(CanonicalJsonError);
  expect(() => canonicalJson({ a: () => 1 })).toThrow("$.a is a function");
});

function signedFor(home: string, record: Partial<ProvenanceRecord>): string {
  const key = loadOrCreateSigningKey(join(home, "ca"));
  const r = { schema: RECORD_SCHEMA, ...record } as ProvenanceRecord;
  return signedText({ record: r, signature: { alg: "ed25519", keyId: key.keyId, publicKey: key.publicKeyPem, value: signText(key, canonicalJson(r)) } });
}

test("the signing key is made once beside the CA, private, and this host trusts it", () => {
  const home = freshHome();
  const a = loadOrCreateSigningKey(join(home, "ca"));
  const b = loadOrCreateSigningKey(join(home, "ca"));
  expect(b.keyId).toBe(a.keyId);
  expect(a.keyId).toMatch(/^ed25519:[0-9a-f]{64}$/);
  const { keyPath, pubPath } = signingKeyFiles(join(home, "ca"));
  expect(statSync(keyPath).mode & 0o777).toBe(0o600);
  expect(statSync(join(home, "ca")).mode & 0o777).toBe(0o700);
  expect(readFileSync(pubPath, "utf8")).toBe(a.publicKeyPem);
  expect([...hostTrust(home)]).toEqual([a.keyId]);
});

test("a record signed on another host verifies only once its key is pinned, by id or as a public key", () => {
  const signer = freshHome();
  const verifier = freshHome();
  const text = signedFor(signer, { run: { id: "r1" } as ProvenanceRecord["run"] });
  const v = checkRecordText(text, hostTrust(verifier));
  expect(v.ok).toBe(false);
  const keyId = loadOrCreateSigningKey(join(signer, "ca")).keyId;
  expect(v.problems).toEqual([`the record is signed by key ${keyId}, which is not trusted here (not this host's key, not pinned)`]);
  writeFileSync(join(verifier, "trusted-keys"), `# the CI runner\n${keyId}\n`);
  expect(checkRecordText(text, hostTrust(verifier)).ok).toBe(true);
  const team = join(verifier, "team-keys");
  writeFileSync(team, readFileSync(signingKeyFiles(join(signer, "ca")).pubPath, "utf8"));
  expect(readTrustFile(team)).toEqual(new Set([keyId]));
});

test("a malformed trust file names the file, the line and the fix", () => {
  const home = freshHome();
  const f = join(home, "trusted-keys");
  writeFileSync(f, "ed25519:abc\n");
  expect(() => readTrustFile(f)).toThrow(ProvenanceError);
  try {
    readTrustFile(f);
  } catch (e) {
    expect((e as ProvenanceError).context).toMatchObject({ file: f, line: 1 });
  }
});

test("another spelling of the same signature or key, or a reformatted file, does not verify", () => {
  const home = freshHome();
  const text = signedFor(home, { run: { id: "r2" } as ProvenanceRecord["run"] });
  const trusted = hostTrust(home);
  expect(checkRecordText(text, trusted).ok).toBe(true);
  const s = JSON.parse(text);
  // The signature's last base64 digit before the padding carries unused bits: another digit, same bytes.
  const sig: string = s.signature.value;
  const i = sig.indexOf("=") - 1;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const twin = sig.slice(0, i) + alphabet[alphabet.indexOf(sig[i]!) ^ 1] + sig.slice(i + 1);
  expect(Buffer.from(twin, "base64").equals(Buffer.from(sig, "base64"))).toBe(true);
  expect(checkRecordText(`${canonicalJson({ ...s, signature: { ...s.signature, value: twin } })}\n`, trusted).problems).toEqual(["the signature is not in the base64 form bottle writes"]);
  expect(checkRecordText(JSON.stringify(s, null, 2), trusted).problems).toEqual(["the file is not in the exact canonical form bottle writes: bytes were changed, added or removed"]);
});
