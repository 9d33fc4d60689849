/** `bottle ledger …`: look after the ledger file itself (integrity and running totals). */
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "ledger", description: "Check the ledger: file integrity, and that every budget's running total equals its usage." },
  subCommands: {
    check: () => import("./check.ts").then((m) => m.default),
  },
});
