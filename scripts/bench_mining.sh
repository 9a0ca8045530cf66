#!/usr/bin/env bash
# bench_mining.sh - times the mining phase's pure step (tickd/mining.c) over
# 100,000 companies and 1,000,000 rigs: in batches of 3 rigs per group and
# with every rig its own group (the worst case), on 2 threads and on 1, in
# (company, site) memory order and, last, in the worst order.  No stack
# needed.  Figures go to docs/BENCHMARKS.md by hand.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/${BUILD:-build}/bench/bench_mining
[ -x "$bin" ] || make -C "$root" --no-print-directory "${BUILD:-build}/bench/bench_mining"
ticks=${BENCH_TICKS:-50}
"$bin" 100000 1000000 3 "$ticks" 2 1
"$bin" 100000 1000000 1 "$ticks" 2 1
"$bin" 100000 1000000 1 "$ticks" 1 1
"$bin" 100000 1000000 1 "$ticks" 2 0
