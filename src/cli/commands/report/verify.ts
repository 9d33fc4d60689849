/**
 * `bottle report verify <file> [--trust FILE]`: checks a provenance record — its exact bytes, its
 * Ed25519 signature, that the signing key is trusted (this host's own, `$BOTTLE_HOME/trusted-keys`, or
 * the ids in `--trust`), and, when this host's ledger has the run, that the ledger's rows still say what
 * the record says. Prints what held; any failure prints every problem and exits 1.
 */
import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { ProvenanceError, UsageError } from "../../../errors.ts";
import { isPostgresUrl } from "../../../ledger/dialect.ts";
import { ledgerPath, openLedger } from "../../../ledger/index.ts";
import { loadSettings } from "../../../manifest/index.ts";
import { bottleHome } from "../../../paths.ts";
import { checkRecordText, hostTrust, readTrustFile, verifyAgainstLedger } from "../../../provenance/index.ts";

export default defineCommand({
  meta: { name: "verify", description: "Check a provenance record: exact bytes, signature, trusted key, and the ledger rows it names." },
  args: {
    file: { type: "positional", required: false, description: "The record file (provenance.json, or what --report wrote)." },
    trust: { type: "string", description: "A file of pinned key ids (ed25519:…) or public keys to trust, besides this host's." },
    ledger: { type: "boolean", default: true, description: "Check the record against this host's ledger when it has the run (--no-ledger: do not)." },
  },
  async run({ args }) {
    const file = args.file;
    if (!file) throw new UsageError("which record?", { key: "file", fix: "usage: bottle report verify <file> [--trust FILE]" });
    if (!existsSync(file)) throw new UsageError(`${file} does not exist`, { file, fix: "pass the record file (`bottle report <run> --json > provenance.json`)" });
    const home = bottleHome();
    const trusted = hostTrust(home);
    if (args.trust) for (const id of readTrustFile(args.trust)) trusted.add(id);
    let v = checkRecordText(readFileSync(file, "utf8"), trusted);
    if (v.signed && args.ledger !== false) {
      const settings = loadSettings(home);
      const path = ledgerPath(settings, home);
      // A fleet ledger (postgres://) is at hand wherever its URL is set; a file only when it exists here.
      if (isPostgresUrl(path) || existsSync(path)) {
        const db = await openLedger({ path });
        try {
          v = await verifyAgainstLedger(v, db);
        } finally {
          await db.destroy();
        }
      } else v.checks.push("ledger: none on this host, so the rows were not checked");
    }
    if (!v.ok) {
      for (const p of v.problems) process.stderr.write(`FAIL: ${p}\n`);
      throw new ProvenanceError(`the record does not verify (${v.problems.length} problem${v.problems.length === 1 ? "" : "s"})`, { file, fix: "do not trust this record; compare it with the copy CI kept, or the host's runs/<id>/provenance.json" });
    }
    const r = v.signed!.record;
    process.stdout.write(`ok: ${file} is run ${r.run.id}'s record ${v.hash}\n${v.checks.map((c) => `  ✓ ${c}\n`).join("")}`);
    return 0;
  },
});
