#!/usr/bin/env bash
# bench_mining_tick.sh - the mining phase inside real ticks: N companies,
# one site each, G rig groups of R rigs per site (default 10,000 x 10 x 10
# = 1,000,000 rigs), every company mining and paying energy each tick, no
# intents.  scripts/bench_tick.sh does the work and reports.
#
# Usage: scripts/bench_mining_tick.sh [N=10000] [G=10] [R=10] [TICKS=30] [TICK_MS=1000]
set -euo pipefail
N=${1:-10000}; G=${2:-10}; R=${3:-10}; TICKS=${4:-30}; TICK_MS=${5:-1000}
exec "$(dirname "$0")/bench_tick.sh" "$N" 0 "$TICKS" "$TICK_MS" $((N * G * R)) "$G"
