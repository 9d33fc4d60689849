/**
 * The manifest API the rest of bottle uses: find and validate every agent and bottle (loadCatalog), merge
 * the bottles of a run (composeBottles) and read host settings (loadSettings). All are synchronous and
 * throw ManifestError / SettingsError whose context names the file, line, key and fix.
 */
export { agentOrBroken, loadCatalog, manifestFiles, type Catalog, type CatalogOptions } from "./catalog.ts";
export { ancestorsOf, composeBottles } from "./compose.ts";
export { defaultSettings, loadSettings, parseSettings } from "./settings.ts";
export { parseAgent, AGENT_KEYS } from "./agent.ts";
export { parseBottle, BOTTLE_KEYS } from "./bottle.ts";
export { isValidName, NAME_PATTERN } from "./names.ts";
export type * from "./types.ts";
