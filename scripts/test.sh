#!/usr/bin/env bash
# The project's test command: installs the host tools the suite needs and starts a docker engine
# (scripts/install-host.sh --docker), the pinned Bun, the locked dependencies and the pinned agent CLIs
# (cached), starts a throwaway PostgreSQL cluster, then runs the suite, and the ledger's suites again on
# PostgreSQL. Arguments run just those tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-host.sh --docker
bash scripts/install-bun.sh
bun install --frozen-lockfile >&2
bash scripts/install-agents.sh
# Fleet mode's tests need a PostgreSQL server: a throwaway cluster on loopback (scripts/start-postgres.sh).
BOTTLE_TEST_PG_URL="$(bash scripts/start-postgres.sh)"
export BOTTLE_TEST_PG_URL
# A test's bound is 60 s unless it sets its own (Bun applies neither bunfig's timeout nor one set in the
# preload to every file; only this flag reaches them all).
if [ "$#" -gt 0 ]; then
  exec bun test --timeout 60000 "$@"
fi
# Each pass also writes a JUnit report; when a pass fails, its failures (with the messages that scrolled
# by) are printed again at the end, where a CI log is read from.
reports="$(mktemp -d)"
pass() {
  local name="$1"
  shift
  local code=0
  "$@" --reporter=junit --reporter-outfile="$reports/$name.xml" || code=$?
  if [ "$code" -ne 0 ]; then
    bun scripts/test-failures.ts "$reports/$name.xml" >&2 || true
    echo "test: the $name pass failed (exit $code)" >&2
    exit "$code"
  fi
}
pass main bun test --timeout 60000
# The ledger, budget and enforcement suites again, on a Postgres ledger (every ledger they open is a fresh
# database on the cluster): one repository API, two dialects, the same promises.
echo "test: the ledger, budget and enforcement suites on PostgreSQL" >&2
BOTTLE_TEST_LEDGER=postgres pass postgres bun test --timeout 60000 tests/enforce tests/budget tests/runs tests/dashboard tests/ledger/repository.test.ts tests/ledger/totals.test.ts tests/ledger/proxy-ledger.test.ts tests/fleet
