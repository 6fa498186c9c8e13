#!/usr/bin/env bash
# The .deb maintainer scripts on every path dpkg takes (install, upgrade, remove, reinstall after
# remove, purge), with systemctl, getent and the user tools replaced by recorders on PATH and a
# private /run and /var/lib (a mount namespace), so nothing on this machine changes. What each
# path must do is what docs/deployment.md promises.
set -euo pipefail
src=${CVAGENT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
deb="$src/packaging/deb"
if ! unshare -m --propagation private true 2>/dev/null; then
  echo "SKIP: cannot create a mount namespace (unshare -m) here"
  exit 77
fi

work=$(mktemp -d /tmp/cvagent-maint.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
for tool in systemctl getent groupadd useradd; do
  cat >"$work/bin/$tool" <<TOOL
#!/bin/sh
echo "$tool \$*" >>"$work/calls"
# systemctl is-active: the service runs unless a test says otherwise.
if [ "$tool" = systemctl ] && [ "\$1" = is-active ]; then [ ! -e "$work/inactive" ]; exit \$?; fi
exit 0
TOOL
  chmod +x "$work/bin/$tool"
done

# Runs the steps in one namespace with systemd "present" (/run/systemd/system exists).
run_in_ns() {
  unshare -m --propagation private env PATH="$work/bin:$PATH" WORK="$work" DEB="$deb" bash -c '
    set -euo pipefail
    mount -t tmpfs none /run && mkdir -p /run/systemd/system
    mount -t tmpfs none /var/lib
    '"$1"
}

failures=0
expect_calls() {  # what, then the expected "systemctl ..." lines (other tools ignored)
  local what=$1 got
  shift
  got=$(grep '^systemctl' "$work/calls" 2>/dev/null || true)
  if [[ "$got" == "$(printf '%s\n' "$@" | sed '/^$/d')" ]]; then
    echo "ok: $what"
  else
    echo "FAIL: $what"$'\n'"expected:"$'\n'"$(printf '%s\n' "$@")"$'\n'"got:"$'\n'"$got" >&2
    failures=$((failures + 1))
  fi
  rm -f "$work/calls"
}

run_in_ns 'sh "$DEB/postinst" configure ""'
expect_calls "first install enables and starts the service" \
  "systemctl daemon-reload" "systemctl enable cvagent.service" "systemctl start cvagent.service"

run_in_ns 'sh "$DEB/postinst" configure 0.1.0-1'
expect_calls "upgrade of a running service restarts it, leaving enablement alone" \
  "systemctl daemon-reload" "systemctl is-active --quiet cvagent.service" \
  "systemctl restart cvagent.service"

touch "$work/inactive"
run_in_ns 'sh "$DEB/postinst" configure 0.1.0-1'
expect_calls "upgrade of a stopped (or disabled) service leaves it stopped" \
  "systemctl daemon-reload" "systemctl is-active --quiet cvagent.service"
rm -f "$work/inactive"

run_in_ns 'sh "$DEB/prerm" remove; sh "$DEB/postrm" remove; sh "$DEB/postinst" configure 0.1.0-1
           test ! -e /var/lib/cvagent/.package-removed'
expect_calls "remove then reinstall: stopped and disabled, then enabled and started again" \
  "systemctl stop cvagent.service" "systemctl disable cvagent.service" \
  "systemctl daemon-reload" "systemctl daemon-reload" "systemctl enable cvagent.service" \
  "systemctl start cvagent.service"

run_in_ns 'mkdir -p /var/lib/cvagent && touch /var/lib/cvagent/state
           sh "$DEB/prerm" remove; sh "$DEB/postrm" purge; test ! -e /var/lib/cvagent'
expect_calls "purge deletes the state directory" \
  "systemctl stop cvagent.service" "systemctl disable cvagent.service" "systemctl daemon-reload"

run_in_ns 'sh "$DEB/prerm" upgrade'
expect_calls "prerm of an upgrade does not stop the service (postinst restarts it)" ""

# Without systemd (a container, a chroot) the scripts touch no unit.
unshare -m --propagation private env PATH="$work/bin:$PATH" DEB="$deb" bash -c '
  mount -t tmpfs none /run && mount -t tmpfs none /var/lib
  sh "$DEB/postinst" configure "" && sh "$DEB/postrm" remove'
expect_calls "without systemd nothing is enabled or started" ""

echo "$failures failed"
[[ $failures -eq 0 ]]
