/**
 * Prints the pinned npm spec of each provider's CLI, one per line (`package@version`). The provider files
 * are the single source of truth; scripts/install-agents.sh and the docker images use this list.
 */
import { PROVIDER_TABLE } from "../src/providers/index.ts";

for (const p of Object.values(PROVIDER_TABLE)) console.log(`${p.npm.package}@${p.npm.version}`);
