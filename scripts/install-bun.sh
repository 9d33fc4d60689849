#!/usr/bin/env bash
# Installs the Bun version pinned in package.json ("bottle.bun") through npm, unless that exact version is
# already on PATH. Used by the README's commands and by CI, so a machine with only Node and npm is enough.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(node -p 'require("./package.json").bottle.bun')
have=$(bun --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "installing bun $want (found: ${have:-none})" >&2
  npm install -g --no-fund --no-audit "bun@$want" >&2
fi
bun --version >/dev/null
