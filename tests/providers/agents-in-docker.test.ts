/**
 * The real claude, codex and pi CLIs run headless in a docker bottle against the simulator, through the
 * bridge and the MITM proxy, and are metered. No registry is reachable here, so the container runs the
 * host's npm install of each CLI (mounted read-only, like a provider image would have it) on an image
 * assembled from host files. The agent is never root in the container (as root, bottle runs it as uid 65533),
 * so Claude Code needs no IS_SANDBOX.
 */
import { describe, test } from "bun:test";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { DockerBackend } from "../../src/backends/docker/index.ts";
import { IMAGE_PATH } from "../../src/backends/docker/args.ts";
import { agentSuite, AGENTS_BIN, AGENTS_DIR } from "../helpers/agent-suite.ts";
import { testBaseImage } from "../helpers/docker-image.ts";

if (Bun.which("docker") === null && !process.env.CI) {
  describe("agent CLIs in docker", () => {
    test.skip("docker is not installed on this machine: agents in docker were not tested", () => {});
  });
} else {
  const node = Bun.which("node");
  agentSuite({
    backendName: "docker",
    backend: async () => {
      const probe = await new DockerBackend().available();
      if (!probe.ok) throw new Error(`docker backend expected but unavailable: ${probe.reason} (run scripts/start-docker.sh)`);
      return new DockerBackend({ image: await testBaseImage([join(AGENTS_BIN, "claude")]) });
    },
    adjust: (plan) => ({
      ...plan,
      expose: [realpathSync(AGENTS_DIR), ...(node ? [realpathSync(node)] : [])],
      env: { ...plan.env, PATH: `${AGENTS_BIN}:${IMAGE_PATH}` },
    }),
  });
}
