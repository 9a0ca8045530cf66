#!/usr/bin/env bash
# check-units.sh - verifies the systemd units as they are installed.
#
# Stages an installation (scripts/install.sh into a temporary DESTDIR, so the
# ExecStart binaries exist at the paths the units name), adds systemd's own
# unit files to that root, and runs `systemd-analyze verify --root` on every
# unit, the template once per service.  Works without a running systemd.
# Any diagnostic is a failure (verify exits 0 on unknown keys and the like).
#
# Usage: BUILD=build scripts/check-units.sh [STAGE]
#   STAGE: an existing staged installation (DESTDIR) to verify instead
#   (tests/integration/test_install.py); systemd's units are added to it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVICES=(auth player site market research governance event admin)
if [ $# -ge 1 ]; then
    stage=$1
else
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    DESTDIR=$stage PREFIX=/usr/local BT_PUBLIC_URL=https://bt.example \
        "$ROOT/scripts/install.sh" > /dev/null
fi
# systemd's own units (sysinit.target, ...) as plain files: their .wants
# directories and alias symlinks would only add noise under --root.
mkdir -p "$stage/usr/lib/systemd/system"
find /usr/lib/systemd/system -maxdepth 1 -type f -exec cp -t "$stage/usr/lib/systemd/system" {} +

units=(bitcoin-tycoon.target bt-migrate.service bt-tickd.service "${SERVICES[@]/#/bt-fcgi@}")
units=("${units[@]/%@*/&.service}")
rc=0
out=$(systemd-analyze verify --man=no --generators=no --root="$stage" "${units[@]}" 2>&1) || rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    echo "units: verify failed (exit $rc)" >&2
    exit 1
fi
echo "units: ok (${#units[@]} verified: ${units[*]})"
