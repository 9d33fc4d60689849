/**
 * The command tree. Each command lives in its own file under commands/ and is loaded lazily, so that
 * `bottle --version` does not pay for the proxy or the ledger.
 */
import { defineCommand } from "citty";
import { VERSION } from "../version.ts";

export const rootCommand = defineCommand({
  meta: {
    name: "bottle",
    version: VERSION,
    description: "Run AI coding agents in sandboxes whose only way out is a metering, budget-enforcing proxy.",
  },
  // Listed in the order a newcomer needs them: launch and manage runs, then budgets, then configuration.
  subCommands: {
    run: () => import("./commands/run.ts").then((m) => m.default),
    resume: () => import("./commands/resume.ts").then((m) => m.default),
    ps: () => import("./commands/ps.ts").then((m) => m.default),
    stop: () => import("./commands/stop.ts").then((m) => m.default),
    logs: () => import("./commands/logs.ts").then((m) => m.default),
    report: () => import("./commands/report/index.ts").then((m) => m.default),
    dashboard: () => import("./commands/dashboard.ts").then((m) => m.default),
    budget: () => import("./commands/budget/index.ts").then((m) => m.default),
    agents: () => import("./commands/agents.ts").then((m) => m.default),
    bottles: () => import("./commands/bottles/index.ts").then((m) => m.default),
    proxy: () => import("./commands/proxy.ts").then((m) => m.default),
    ca: () => import("./commands/ca/index.ts").then((m) => m.default),
    ledger: () => import("./commands/ledger/index.ts").then((m) => m.default),
    doctor: () => import("./commands/doctor.ts").then((m) => m.default),
  },
});
