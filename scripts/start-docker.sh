#!/usr/bin/env bash
# Makes sure a docker engine answers, for the docker backend's tests. Idempotent: does nothing when
# `docker info` already works; otherwise starts dockerd in the background (as root) and waits for it.
# Exits non-zero with the reason (and the end of dockerd's log) when no engine can be started.
set -uo pipefail
if ! command -v docker >/dev/null 2>&1; then
  echo "start-docker: the docker CLI is not installed (apt-get install docker.io)" >&2
  exit 1
fi
if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-docker: no engine answers and dockerd is not installed (apt-get install docker.io)" >&2
  exit 1
fi
if [ "$(id -u)" != "0" ]; then
  echo "start-docker: no engine answers and starting dockerd needs root" >&2
  exit 1
fi
log="${DOCKERD_LOG:-/var/log/bottle-dockerd.log}"
pidfile=/var/run/docker.pid
if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
  setsid nohup dockerd >"$log" 2>&1 </dev/null &
fi
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    echo "start-docker: engine $(docker info --format '{{.ServerVersion}}') is up" >&2
    exit 0
  fi
  sleep 0.5
done
echo "start-docker: dockerd did not answer within 60 s; its log ends with:" >&2
tail -n 20 "$log" >&2 || true
exit 1
