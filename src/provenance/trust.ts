/**
 * Which signing keys a verifier trusts. A valid signature only says that whoever held a key signed the
 * record; it is worth something when that key is one the team pinned. Keys are pinned by id
 * (`ed25519:<hex>`, as `bottle report key` and `bottle report verify` print it) or as a PEM public key, in a
 * trust file: `$BOTTLE_HOME/trusted-keys` on a host, or any file passed with `--trust` (a team keeps one
 * in its repository). This host's own key is trusted on this host.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ProvenanceError } from "../errors.ts";
import { homePaths } from "../paths.ts";
import { hostKeyId, keyIdOf } from "./sign.ts";

const KEY_ID = /^ed25519:[0-9a-f]{64}$/;

/** The key ids in a trust file's text: one id a line, or PEM public keys; `#` starts a comment. */
export function parseTrust(text: string, file: string): Set<string> {
  const ids = new Set<string>();
  for (const m of text.matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g)) {
    try {
      ids.add(keyIdOf(m[0]));
    } catch {
      throw new ProvenanceError(`a public key in ${file} cannot be read`, { file, fix: "paste the whole signing.pub, BEGIN and END lines included" });
    }
  }
  const rest = text.replace(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g, "");
  rest.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    if (!KEY_ID.test(line)) {
      throw new ProvenanceError(`line ${i + 1} of ${file} is not a key id`, { file, line: i + 1, fix: "write one key id a line, ed25519:<64 hex digits>, as `bottle report verify` prints it" });
    }
    ids.add(line);
  });
  return ids;
}

export function readTrustFile(file: string): Set<string> {
  if (!existsSync(file)) throw new ProvenanceError(`the trust file ${file} does not exist`, { file, key: "--trust", fix: "pass a file of pinned key ids (see docs/provenance.md)" });
  return parseTrust(readFileSync(file, "utf8"), file);
}

/** This host's own key (when it has one) and the ids in `$BOTTLE_HOME/trusted-keys`. */
export function hostTrust(home: string): Set<string> {
  const out = new Set<string>();
  const own = hostKeyId(homePaths(home).ca);
  if (own) out.add(own);
  const pinned = join(home, "trusted-keys");
  if (existsSync(pinned)) for (const id of readTrustFile(pinned)) out.add(id);
  return out;
}
