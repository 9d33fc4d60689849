/**
 * `bottle ca path` prints where the CA certificate is, creating the CA on first use, so that a user can
 * point NODE_EXTRA_CA_CERTS / SSL_CERT_FILE at it. Only the certificate: the key never leaves $BOTTLE_HOME.
 */
import { defineCommand } from "citty";
import { loadOrCreateCa } from "../../../ca/authority.ts";
import { homePaths } from "../../../paths.ts";

export default defineCommand({
  meta: { name: "path", description: "Print the path of the proxy's CA certificate (PEM)." },
  args: {
    json: { type: "boolean", description: "Print {\"cert\": path} as JSON." },
  },
  run({ args }) {
    const ca = loadOrCreateCa(homePaths().ca);
    process.stdout.write(args.json ? `${JSON.stringify({ cert: ca.certPath })}\n` : `${ca.certPath}\n`);
  },
});
