/**
 * The manifests bottle ships with, so a first run needs no config: one agent per provider (claude, codex,
 * pi) and the bottles they default to (anthropic, openai), whose routes meter the provider's API and keep
 * its key on the host. They are imported statically as text, so they are inside the compiled binary. A
 * user file of the same name replaces an embedded one entirely (no merging).
 */
import claude from "./defaults/agents/claude.md" with { type: "text" };
import codex from "./defaults/agents/codex.md" with { type: "text" };
import pi from "./defaults/agents/pi.md" with { type: "text" };
import anthropic from "./defaults/bottles/anthropic.md" with { type: "text" };
import openai from "./defaults/bottles/openai.md" with { type: "text" };
import type { ManifestText } from "./manifest-file.ts";

const embed = (dir: string, name: string, text: string): ManifestText => ({ file: `embedded:${dir}/${name}.md`, text });

export const EMBEDDED_AGENTS: readonly ManifestText[] = [embed("agents", "claude", claude), embed("agents", "codex", codex), embed("agents", "pi", pi)];

export const EMBEDDED_BOTTLES: readonly ManifestText[] = [embed("bottles", "anthropic", anthropic), embed("bottles", "openai", openai)];
