/**
 * Agent images for the docker backend. Each provider has an embedded Dockerfile (a node base image plus
 * the pinned CLI from npm); the image is built on first use and tagged with a hash of the Dockerfile's
 * text, so changing the Dockerfile or the pinned version builds a new image and an unchanged one is never
 * rebuilt. The Dockerfile goes to `docker build -` on stdin: no build context, no files from the host.
 *
 * A build can take minutes, so its steps are reported as they happen; when it fails, the error says what
 * actually went wrong (the base image is missing and no registry answers, npm could not install the CLI)
 * and how to get past it, never "check that the engine runs" for an engine that does.
 */
import { createHash } from "node:crypto";
import { BackendError } from "../../errors.ts";
import type { ProviderName } from "../../manifest/types.ts";
import { PROVIDER_TABLE } from "../../providers/index.ts";
import { docker, dockerStream } from "./cli.ts";
import { buildFailure } from "./build-failure.ts";

export const DEFAULT_NODE_IMAGE = "node:22-bookworm-slim";
export const IMAGE_LABEL = "bottle.image";

export function providerDockerfile(provider: ProviderName, base = DEFAULT_NODE_IMAGE): string {
  const p = PROVIDER_TABLE[provider];
  const lines = [
    `FROM ${base}`,
    `LABEL ${IMAGE_LABEL}="${provider}"`,
    "ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false",
    `RUN npm install -g --ignore-scripts ${p.npm.package}@${p.npm.version}`,
  ];
  // Claude Code's only install step links its platform binary into place.
  if (provider === "claude") lines.push("RUN node /usr/local/lib/node_modules/@anthropic-ai/claude-code/install.cjs");
  lines.push(`RUN ${p.binary} --version`);
  return `${lines.join("\n")}\n`;
}

export function imageTag(name: string, dockerfile: string): string {
  return `bottle-${name}:${createHash("sha256").update(dockerfile).digest("hex").slice(0, 16)}`;
}

/** Whether the engine has `tag`. A failed or timed-out inspect is an error, never read as "absent". */
export async function imageExists(tag: string): Promise<boolean> {
  const r = await docker(["image", "inspect", "--format", "{{.Id}}", tag], { timeoutMs: 30_000 });
  if (r.code === 0) return true;
  if (/no such image|no such object/i.test(r.stderr)) return false;
  throw new BackendError(`docker could not inspect image ${tag}: ${r.stderr.trim() || (r.timedOut ? "timed out" : `exit ${r.code}`)}`, {
    fix: "check the docker engine (`docker info`), or use --backend sandbox",
  });
}

/** The first FROM of a Dockerfile: the base image a build needs. */
export function baseImageOf(dockerfile: string): string | undefined {
  return /^\s*FROM\s+(\S+)/im.exec(dockerfile)?.[1];
}

export interface EnsureOptions {
  /** Each line of build progress (the builder's steps), as it happens. */
  onProgress?: (line: string) => void;
}

/** Builds the Dockerfile unless an image with its content hash exists. Returns the tag and whether it built. */
export async function ensureImage(name: string, dockerfile: string, o: EnsureOptions = {}): Promise<{ tag: string; built: boolean }> {
  const tag = imageTag(name, dockerfile);
  if (await imageExists(tag)) return { tag, built: false };
  o.onProgress?.(`building docker image ${tag} (${name}; first use, this can take minutes)`);
  const r = await dockerStream(["build", "--tag", tag, "--label", `${IMAGE_LABEL}=${name}`, "-"], {
    input: dockerfile,
    timeoutMs: 30 * 60_000,
    // The legacy builder prints "Step 2/5 : RUN …", BuildKit "#5 [2/4] RUN …": the steps, not every log line.
    onLine: (line) => {
      if (/^Step \d+\/\d+ :|^#\d+ \[/.test(line)) o.onProgress?.(`${name}: ${line.trim()}`);
    },
  });
  if (r.code !== 0) throw buildFailure({ name, base: baseImageOf(dockerfile) ?? "?", output: `${r.stdout}\n${r.stderr}`, timedOut: r.timedOut });
  return { tag, built: true };
}
