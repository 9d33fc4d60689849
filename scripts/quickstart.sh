#!/usr/bin/env bash
# The README's first command. On a Debian machine with only Node and npm it installs what bottle needs
# (the host tools of scripts/install-host.sh, the pinned Bun, the locked dependencies, the agent CLIs),
# builds dist/bottle, and then runs
# bottle's main job on its built-in defaults: the real Claude Code CLI, headless, in a sandbox bottle,
# talking to bottle's SIMULATED provider (no API key, nothing billed). The run is metered request by
# request, its small budget cuts it off, and the usage report shows what it spent.
#
# Its state goes to .cache/quickstart (override with BOTTLE_HOME), never to ~/.bottle.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

step "host tools: bubblewrap (the sandbox backend), docker, tmux, curl, git (scripts/install-host.sh)"
bash scripts/install-host.sh

step "Bun, dependencies, and the bottle binary"
bash scripts/install-bun.sh
bun install --frozen-lockfile >&2
bun run build >&2

step "the agent CLIs (pinned versions, cached in .cache/agents)"
bash scripts/install-agents.sh

export BOTTLE_HOME="${BOTTLE_HOME:-$repo/.cache/quickstart/home}"
workspace="$repo/.cache/quickstart/workspace"
mkdir -p "$BOTTLE_HOME" "$workspace"
# The sandbox runs the host's install of the agent CLI.
export PATH="$repo/.cache/agents/node_modules/.bin:$PATH"
bottle="$repo/dist/bottle"

step "bottle run claude --headless … --simulate --budget 100"
cat >&2 <<'EOF'
The provider is SIMULATED: bottle's built-in fake model speaks Anthropic's real wire format, so Claude
Code, the proxy, metering and the budget all do their real work, but no real model answers. It asks for
three tool calls (37 tokens each) before it answers; a budget of 100 tokens lets the third request
through (it crosses the budget) and refuses the fourth, so the run is cut off and exits 75.
EOF
cd "$workspace"
set +e
"$bottle" run claude --headless --prompt "Say hello." --simulate --backend sandbox --budget 100
code=$?
set -e
cd "$repo"
echo "bottle run exited $code (75: stopped by its budget)" >&2
if [ "$code" != 75 ]; then
  echo "quickstart: expected exit 75 from a budget cutoff, got $code" >&2
  exit 1
fi

step "bottle budget usage"
"$bottle" budget usage

step "bottle report claude (the run's signed provenance record), then bottle report verify"
"$bottle" report claude
"$bottle" report claude --json > "$workspace/provenance.json"
"$bottle" report verify "$workspace/provenance.json"

cat >&2 <<EOF

That run used the SIMULATED provider. For the real Anthropic API, run the same command without
--simulate, with your key exported (the proxy injects it; the agent never sees it) and a real budget
(real requests cost thousands of tokens):

  ANTHROPIC_API_KEY=sk-ant-… $bottle run claude --headless --prompt "Say hello." --backend sandbox --budget 100000

State of this demo: $BOTTLE_HOME. Next: bash scripts/test.sh runs the test suite.
EOF
