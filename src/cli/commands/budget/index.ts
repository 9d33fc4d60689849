/** `bottle budget …`: show, set and reset budgets, report usage, and cut off or restore a live run. */
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "budget", description: "Show, set and reset budgets; report usage; cut off or restore a run." },
  subCommands: {
    show: () => import("./show.ts").then((m) => m.default),
    set: () => import("./set.ts").then((m) => m.default),
    unset: () => import("./unset.ts").then((m) => m.default),
    reset: () => import("./reset.ts").then((m) => m.default),
    usage: () => import("./usage.ts").then((m) => m.default),
    cutoff: () => import("./cutoff.ts").then((m) => m.default),
    restore: () => import("./restore.ts").then((m) => m.default),
  },
});
