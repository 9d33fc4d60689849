#!/usr/bin/env bash
# The project's test command: installs the host tools the suite needs and starts a docker engine
# (scripts/install-host.sh --docker), the pinned Bun, the locked dependencies and the pinned agent CLIs
# (cached), then runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-host.sh --docker
bash scripts/install-bun.sh
bun install --frozen-lockfile >&2
bash scripts/install-agents.sh
exec bun test "$@"
