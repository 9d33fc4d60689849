/** `bottle budget …`: show, set and reset budgets, and cut off or restore a live run. */
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "budget", description: "Show, set and reset budgets; cut off or restore a run." },
  subCommands: {
    set: () => import("./set.ts").then((m) => m.default),
    unset: () => import("./unset.ts").then((m) => m.default),
    usage: () => import("./usage.ts").then((m) => m.default),
  },
});
