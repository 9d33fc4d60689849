#!/usr/bin/env bash
# Installs the pinned agent CLIs (claude, codex, pi) from npm into a cache directory the tests run them from
# (default .cache/agents; override with BOTTLE_AGENTS_DIR). Idempotent and fast when already installed: the
# install is skipped when the recorded package list matches and every binary answers --version.
# Dependencies' install scripts are not run (npm 11 blocks them by default anyway); the only one needed,
# Claude Code's binary link step, is run explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${BOTTLE_AGENTS_DIR:-$PWD/.cache/agents}"
specs="$(bun scripts/agent-packages.ts)"
stamp="$dir/.installed"
works() {
  for b in claude codex pi; do
    timeout 60 "$dir/node_modules/.bin/$b" --version >/dev/null 2>&1 || return 1
  done
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$specs" ] && works; then
  exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
# shellcheck disable=SC2086
npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --save-exact $specs >&2
# Claude Code's one install step links its platform binary (from an optional dependency) into bin/claude.exe.
(cd "$dir" && node node_modules/@anthropic-ai/claude-code/install.cjs) >&2
if ! works; then
  echo "install-agents: an agent CLI does not run after install (see $dir/node_modules/.bin)" >&2
  exit 1
fi
printf '%s' "$specs" >"$stamp"
echo "install-agents: $(echo "$specs" | tr '\n' ' ')in $dir" >&2
