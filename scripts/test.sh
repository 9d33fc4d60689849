#!/usr/bin/env bash
# The project's test command: installs the pinned Bun and the locked dependencies, then runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-bun.sh
bun install --frozen-lockfile >&2
exec bun test "$@"
