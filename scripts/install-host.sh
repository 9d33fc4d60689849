#!/usr/bin/env bash
# The host tools bottle's demo and test suite need, in one list (the one source of truth for the README's
# commands and for .ci/run): bubblewrap (the sandbox backend), docker.io (the docker backend's engine and
# CLI), tmux (the terminal tests), curl, git, iproute2, CA certificates and PostgreSQL (fleet mode's shared ledger). On a Debian machine with only
# Node and npm it installs what is missing with apt-get (through sudo when not root); it does nothing when
# everything is there. With --docker it also makes sure a docker engine answers (scripts/start-docker.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
want_docker=0
[ "${1:-}" = "--docker" ] && want_docker=1

# command:package pairs; a package is installed when its command is missing.
needs="bwrap:bubblewrap docker:docker.io dockerd:docker.io tmux:tmux curl:curl git:git ip:iproute2 script:bsdutils"
missing=""
for pair in $needs; do
  cmd="${pair%%:*}" pkg="${pair#*:}"
  if ! command -v "$cmd" >/dev/null 2>&1; then
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
  fi
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"
# PostgreSQL for fleet mode's tests (its server binaries are not on PATH: /usr/lib/postgresql/<v>/bin).
{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; } || missing="$missing postgresql"

if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-host: missing:$missing — install them with your package manager" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "install-host: installing$missing" >&2
  $sudo apt-get update -qq >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
fi
bwrap --version >&2

if [ "$want_docker" = 1 ]; then
  # The docker backend's tests need an engine. If none can start, they fail with the engine's own reason
  # (they never skip when docker is installed), so this warns instead of stopping the suite.
  if [ "$(id -u)" = 0 ]; then
    bash scripts/start-docker.sh || echo "install-host: no docker engine could be started; the docker backend tests will fail" >&2
  else
    docker info >/dev/null 2>&1 || sudo bash scripts/start-docker.sh || echo "install-host: no docker engine could be started (try: sudo dockerd); the docker backend tests will fail" >&2
  fi
fi
