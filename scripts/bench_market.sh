#!/usr/bin/env bash
# bench_market.sh - matching 100,000 orders in one tick (pure code, no stack).
# BENCH_MARKET_ORDERS / BENCH_MARKET_RUNS override the defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/${BUILD:-build}/bench/bench_market"
for kind in spot perp; do
    "$bin" "${BENCH_MARKET_ORDERS:-100000}" "${BENCH_MARKET_RUNS:-5}" "$kind"
done
