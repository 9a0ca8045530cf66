#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages the project needs (idempotent).
#
# Quiet when everything is present.  As root, missing packages are installed
# with apt-get (running `apt-get update` once when the package lists are
# empty or stale).  As a normal user, prints the one `sudo apt-get install`
# line to run and fails.  BT_DEPS_SKIP=1 skips the check (offline machines
# that are known to be complete).
set -euo pipefail

[ "${BT_DEPS_SKIP:-0}" = 1 ] && exit 0

build=(build-essential pkg-config libfcgi-dev libjson-c-dev libjwt-dev libsodium-dev
       libhiredis-dev libpq-dev libsystemd-dev libcurl4-openssl-dev libcmocka-dev clang-format)
runtime=(nginx libnginx-mod-nchan redis-server postgresql postgresql-client curl)
testing=(python3 python3-pytest python3-requests python3-psycopg python3-jwt python3-websocket python3-yaml
         python3-selenium chromium chromium-driver systemd wrk procps util-linux)

missing=()
for p in "${build[@]}" "${runtime[@]}" "${testing[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package installs must not start system services on this machine: the
# project runs its own PostgreSQL, Redis and nginx instances.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
cleanup() { [ $created_policy = 1 ] && rm -f "$policy"; true; }
trap cleanup EXIT

lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)
if [ -z "$lists" ]; then
    apt-get update -qq
fi
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/bt-deps.log 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/bt-deps.log 2>&1 || {
        tail -20 /tmp/bt-deps.log >&2; exit 1; }
fi
echo "deps: done"
