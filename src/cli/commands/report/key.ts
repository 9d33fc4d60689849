/**
 * `bottle report key`: this host's record-signing key — its id (what a team pins) and the public key file —
 * made on first use like the CA beside it. The private key is never printed.
 */
import { defineCommand } from "citty";
import { homePaths } from "../../../paths.ts";
import { loadOrCreateSigningKey, signingKeyFiles } from "../../../provenance/sign.ts";
import { printJson } from "../../ledger-session.ts";

export default defineCommand({
  meta: { name: "key", description: "Print this host's record-signing key id and public key file (to pin it in a trusted-keys file)." },
  args: {
    json: { type: "boolean", description: "Print {\"keyId\", \"publicKey\"} as JSON." },
  },
  run({ args }) {
    const dir = homePaths().ca;
    const key = loadOrCreateSigningKey(dir);
    const { pubPath } = signingKeyFiles(dir);
    if (args.json) printJson({ keyId: key.keyId, publicKey: pubPath });
    else process.stdout.write(`${key.keyId}\n${pubPath}\n`);
  },
});
