#!/usr/bin/env bash
# The isolation suite (every test file in tests/isolation/) run the two ways bottle is launched: by the
# current user, and, when that is root, again by a throwaway unprivileged user created for this run and
# deleted afterwards. Root and an ordinary user get different sandboxes (root's agent is dropped to an
# unprivileged uid; an ordinary user's is mapped in a user namespace), so both must hold.
#   scripts/test-isolation.sh                    both ways
#   scripts/test-isolation.sh --unprivileged     only as the throwaway user (CI already ran it as root)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
mode="${1:-both}"

if [ "$mode" != "--unprivileged" ]; then
  echo "isolation suite as $(id -un) (uid $(id -u))" >&2
  bun test --timeout 60000 tests/isolation/
fi
if [ "$(id -u)" != 0 ]; then
  [ "$mode" = "--unprivileged" ] && echo "isolation: already unprivileged (uid $(id -u)); ran nothing as a throwaway user" >&2
  exit 0
fi

user="bottle-iso-$$"
work=""
cleanup() {
  userdel -r "$user" >/dev/null 2>&1 || true
  if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
useradd --create-home --shell /bin/sh "$user"
home="$(getent passwd "$user" | cut -d: -f6)"
# The user database's home must hold something, or the "home is hidden" case would prove nothing.
echo "a file the agent must not see" > "$home/.profile-marker"
chown "$user:" "$home/.profile-marker"
# Docker tests need the engine: membership of its group is what an ordinary docker user has.
if getent group docker >/dev/null; then usermod -aG docker "$user"; fi

# The throwaway user needs a readable copy of the repository when the checkout is private to root.
src="$repo"
if ! runuser -u "$user" -- test -r "$repo/package.json"; then
  work="$(mktemp -d)"
  cp -a "$repo" "$work/repo"
  chown -R "$user:" "$work"
  chmod 755 "$work"
  src="$work/repo"
fi
echo "isolation suite as $user (uid $(id -u "$user"))" >&2
runuser -u "$user" -- env -i PATH="$PATH" HOME="$home" LANG="${LANG:-C.UTF-8}" ${CI:+CI="$CI"} \
  ${BOTTLE_AGENTS_DIR:+BOTTLE_AGENTS_DIR="$BOTTLE_AGENTS_DIR"} \
  sh -c 'cd "$1" && exec bun test --timeout 60000 tests/isolation/' isolation "$src"
