/**
 * The provider registry: one entry per ProviderName, so adding a CLI family is one file plus one line.
 */
import type { ProviderName } from "../manifest/types.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex.ts";
import { pi } from "./pi.ts";
import type { Provider } from "./types.ts";

export const PROVIDER_TABLE: Readonly<Record<ProviderName, Provider>> = Object.freeze({ claude, codex, pi });

export function providerFor(name: ProviderName): Provider {
  return PROVIDER_TABLE[name];
}

export type { Provider, HostPolicy, LaunchOptions, CountTokens } from "./types.ts";
export { providerRoutes } from "./types.ts";
