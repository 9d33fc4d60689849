/**
 * The real claude, codex and pi CLIs run headless in a sandbox bottle against the simulator, through the
 * bridge and the MITM proxy, and are metered (see tests/helpers/agent-suite.ts).
 */
import { SandboxBackend } from "../../src/backends/sandbox/index.ts";
import { agentSuite } from "../helpers/agent-suite.ts";

agentSuite({
  backendName: "sandbox",
  backend: async () => {
    const b = new SandboxBackend();
    const a = await b.available();
    if (!a.ok) throw new Error(`sandbox backend unavailable: ${a.reason}`);
    return b;
  },
});
