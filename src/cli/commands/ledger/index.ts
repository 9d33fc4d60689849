/** `bottle ledger …`: look after the ledger itself (integrity and running totals), and move it to a fleet. */
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "ledger", description: "Check the ledger (integrity, running totals), or copy it into a fleet ledger." },
  subCommands: {
    check: () => import("./check.ts").then((m) => m.default),
    migrate: () => import("./migrate.ts").then((m) => m.default),
  },
});
