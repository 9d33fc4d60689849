/** `bottle ca …`: the proxy's certificate authority, which agents must trust for metered hosts. */
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "ca", description: "The proxy's certificate authority (created on first use under $BOTTLE_HOME/ca)." },
  subCommands: {
    path: () => import("./path.ts").then((m) => m.default),
  },
});
