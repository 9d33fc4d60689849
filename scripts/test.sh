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
if [ "$#" -gt 0 ]; then
  exec bun test "$@"
fi
bun test
# The ledger, budget and enforcement suites again, on a Postgres ledger (every ledger they open is a fresh
# database on the cluster): one repository API, two dialects, the same promises.
echo "test: the ledger, budget and enforcement suites on PostgreSQL" >&2
BOTTLE_TEST_LEDGER=postgres bun test tests/enforce tests/budget tests/runs tests/dashboard tests/ledger/repository.test.ts tests/ledger/totals.test.ts tests/ledger/proxy-ledger.test.ts tests/fleet
