/**
 * Why a `docker build` of an agent image failed, read from the builder's output, as an error a user can act
 * on. Offline (the usual case on locked-down hosts) the base image cannot be pulled, or npm cannot reach
 * its registry; both are named, with the ways forward: the sandbox backend, or providing the image.
 * Pure: output in, error out.
 */
import { BackendError } from "../../errors.ts";

export interface BuildOutput {
  /** The image being built (agent-pi, …). */
  name: string;
  /** The base image its Dockerfile starts FROM. */
  base: string;
  output: string;
  timedOut?: boolean;
}

const UNREACHABLE = /dial tcp|no such host|i\/o timeout|TLS handshake timeout|connection refused|network is unreachable|Temporary failure in name resolution|EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|getaddrinfo/i;
const NO_BASE = /pull access denied|manifest unknown|manifest for .* not found|repository does not exist|not found: manifest/i;
const NPM = /npm ERR!|npm error/i;

/** The last line of output that says something (the builder's own summary of what broke). */
function lastWords(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !/^(Removing intermediate|---> |Sending build context)/.test(l));
  return (lines.at(-1) ?? "").slice(0, 300);
}

function provide(base: string): string {
  return `provide the base image: on a machine that reaches a registry run \`docker pull ${base} && docker save ${base} -o base.tar\`, then \`docker load -i base.tar\` here; or set \`backend.image\` in a bottle to an agent image this host already has`;
}
const SANDBOX = "or run this agent with --backend sandbox (bubblewrap and the agent CLI on the host)";

/** Checked without building (a dry run): neither the agent image nor its base image is on this host. */
export function missingBase(name: string, base: string): BackendError {
  return new BackendError(`the ${name} docker image is not built and its base image ${base} is not on this host`, { key: "backend", fix: `${provide(base)}; ${SANDBOX}` });
}

export function buildFailure(b: BuildOutput): BackendError {
  const sandbox = SANDBOX;
  if (b.timedOut) return new BackendError(`building the ${b.name} docker image did not finish within 30 minutes`, { key: "backend", fix: `check the network, ${sandbox}` });
  const out = b.output;
  const fromFailed = new RegExp(`FROM ${b.base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[\\s\\S]*?(pull|registry|manifest|dial tcp|no such host)`, "i").test(out) || /error pulling image|failed to resolve source metadata|Get "https:\/\/[^"]*\/v2\//i.test(out);
  if (fromFailed && NO_BASE.test(out) && !UNREACHABLE.test(out)) {
    return new BackendError(`the ${b.name} docker image cannot be built: its base image ${b.base} is not on this host and the registry does not have it (${lastWords(out)})`, { key: "backend", fix: `${provide(b.base)}; ${sandbox}` });
  }
  if (fromFailed) {
    return new BackendError(`the ${b.name} docker image cannot be built: its base image ${b.base} is not on this host and no image registry answers (${lastWords(out)})`, { key: "backend", fix: `${provide(b.base)}; ${sandbox}` });
  }
  if (NPM.test(out)) {
    const why = UNREACHABLE.test(out) ? "the npm registry cannot be reached" : "npm failed";
    return new BackendError(`the ${b.name} docker image cannot be built: ${why} while installing the agent CLI (${lastWords(out)})`, {
      key: "backend",
      fix: `let the docker engine reach the npm registry (or an npm mirror set with NPM_CONFIG_REGISTRY in a site image), set \`backend.image\` in a bottle to an agent image this host already has, ${sandbox}`,
    });
  }
  return new BackendError(`the ${b.name} docker image cannot be built: ${lastWords(out) || "docker build failed without output"}`, { key: "backend", fix: `see \`docker build\`'s output above; ${sandbox}` });
}
