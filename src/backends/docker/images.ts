/**
 * Agent images for the docker backend. Each provider has an embedded Dockerfile (a node base image plus
 * the pinned CLI from npm); the image is built on first use and tagged with a hash of the Dockerfile's
 * text, so changing the Dockerfile or the pinned version builds a new image and an unchanged one is never
 * rebuilt. The Dockerfile goes to `docker build -` on stdin: no build context, no files from the host.
 */
import { createHash } from "node:crypto";
import type { ProviderName } from "../../manifest/types.ts";
import { PROVIDER_TABLE } from "../../providers/index.ts";
import { docker, dockerOk } from "./cli.ts";

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

export async function imageExists(tag: string): Promise<boolean> {
  return (await docker(["image", "inspect", "--format", "{{.Id}}", tag], { timeoutMs: 30_000 })).code === 0;
}

/** Builds the Dockerfile unless an image with its content hash exists. Returns the tag and whether it built. */
export async function ensureImage(name: string, dockerfile: string): Promise<{ tag: string; built: boolean }> {
  const tag = imageTag(name, dockerfile);
  if (await imageExists(tag)) return { tag, built: false };
  await dockerOk(["build", "--quiet", "--tag", tag, "--label", `${IMAGE_LABEL}=${name}`, "-"], `build the ${name} image`, { input: dockerfile, timeoutMs: 30 * 60_000 });
  return { tag, built: true };
}
