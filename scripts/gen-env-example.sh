#!/usr/bin/env bash
# gen-env-example.sh - writes docs/bt.env.example from the configuration
# table compiled into the binaries (`tickd --config-keys`, lib/config.c), so
# the example lists every key with its default and can never drift from the
# code (tests/integration/test_install.py compares the two).
#
# Usage: scripts/gen-env-example.sh [TICKD] > docs/bt.env.example
#
# Every key is commented out: the binaries' defaults apply.  scripts/install.sh
# copies this file to /etc/bitcoin-tycoon/bt.env and uncomments the few keys
# an installation sets (paths, URLs).  systemd's EnvironmentFile syntax:
# KEY=VALUE, values with spaces in double quotes, # starts a comment line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tickd=${1:-$root/build/bin/tickd}
[ -x "$tickd" ] || { echo "gen-env-example: $tickd is missing (run: make)" >&2; exit 1; }

cat <<'HEAD'
# bt.env - configuration of an installed Bitcoin Tycoon server.
#
# Read by every unit (EnvironmentFile=/etc/bitcoin-tycoon/bt.env); after a
# change: systemctl restart bitcoin-tycoon.target.  Generated from the
# binaries' configuration table by scripts/gen-env-example.sh: every key is
# listed with its default, commented out.  Uncomment a line to change it.
# scripts/install.sh has already set the keys an installation needs (paths,
# URLs) and keeps this file on upgrades.  See docs/DEPLOY.md.
#
# Not here on purpose: BT_SOCKET (set per pool by bt-fcgi@.service).
HEAD
"$tickd" --config-keys | awk -F'|' '
    NR <= 2 { next }                       # the Markdown header rows
    {
        name = $2; def = $3; help = $4
        gsub(/^[ `]+|[ `]+$/, "", name)
        gsub(/^ `|` $/, "", def)
        gsub(/^ +| +$/, "", help)
        if (name == "BT_SOCKET") next
        if (def ~ /[ "#$\\]/) { gsub(/["\\]/, "\\\\&", def); def = "\"" def "\"" }
        printf "\n# %s\n#%s=%s\n", help, name, def
    }'
cat <<'TAIL'

# libpq: where the database password of BT_PG_DSN's user is kept (a file
# owned by bitcoin-tycoon, mode 0600, one line host:port:db:user:password).
#PGPASSFILE=/etc/bitcoin-tycoon/pgpass
TAIL
