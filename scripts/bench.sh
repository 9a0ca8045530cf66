#!/usr/bin/env bash
# bench.sh - runs every benchmark (scripts/bench_*.sh) in turn.
#
# Each benchmark starts what it needs on free loopback ports, prints its
# figures and stops what it started.  BENCH_ONLY=api,tick runs a subset;
# BENCH_SECS (default 10) is the length of each load run.  Results are
# written up by hand in docs/BENCHMARKS.md with the command that made them:
# figures on a shared 2-core machine drift, so compare ratios measured in
# the same run.
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
