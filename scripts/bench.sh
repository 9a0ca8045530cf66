#!/usr/bin/env bash
# bench.sh - `make bench`: runs every scripts/bench_*.sh in turn.
# BENCH_ONLY=accounts,... runs a subset; BENCH_SECS sets each load run's length.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for b in "$root"/scripts/bench_*.sh; do
    name=$(basename "$b" .sh); name=${name#bench_}
    if [ -n "${BENCH_ONLY:-}" ] && [[ ",$BENCH_ONLY," != *",$name,"* ]]; then continue; fi
    echo "==== bench: $name"
    "$b" || { echo "bench $name FAILED"; status=1; }
done
exit $status
