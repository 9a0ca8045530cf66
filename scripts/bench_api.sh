#!/usr/bin/env bash
# bench_api.sh - request pipeline throughput of the C services (wrk -t2 -c64,
# the peer's settings) on a dedicated stack:
#   GET /              admin service, no database (pipeline floor)
#   GET /api/admin/worlds  JWT verification, ban check, rate limit, one query
# Rate limits are lifted for the run (BT_RATE_SCALE, BT_API_RATE): we measure
# the code, not the limiter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchlib.sh
. "$root/scripts/benchlib.sh"
bench_stack_start api
tok=$(bench_token admin)
cat > "$BENCH_DIR/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $tok"
LUA
bench_wrk "GET /" "$BENCH_URL/"
bench_wrk "GET /api/admin/worlds" "$BENCH_URL/api/admin/worlds" -s "$BENCH_DIR/auth.lua"
bench_stack_stop
