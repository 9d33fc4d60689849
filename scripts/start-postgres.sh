#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the fleet-mode tests, as the unprivileged `postgres`
# user (initdb refuses to run as root), and prints its URL. Idempotent: a cluster already running in the
# same directory is reused. Needs Debian's postgresql package (binaries in /usr/lib/postgresql/<v>/bin).
#   BOTTLE_PG_DIR   the cluster's directory (default /var/tmp/bottle-pg)
#   BOTTLE_PG_PORT  its loopback port (default 55432)
set -euo pipefail
dir="${BOTTLE_PG_DIR:-/var/tmp/bottle-pg}"
port="${BOTTLE_PG_PORT:-55432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "start-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as_pg() {
  if [ "$(id -un)" = "postgres" ]; then "$@"; else runuser -u postgres -- "$@"; fi
}
if [ "$(id -u)" = "0" ]; then
  mkdir -p "$dir"
  chown postgres: "$dir"
fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
fi
if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; exit 1; }
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
