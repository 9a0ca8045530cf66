#!/usr/bin/env bash
# bench_accounts.sh - throughput and p99 of GET /player/me, POST /auth/login
# and POST /auth/refresh through nginx, plus the cost of one argon2id hash.
#
# Starts its own stack under /tmp/bt-bench-accounts-XXXXXX on free loopback ports
# with the per-IP and per-caller rate limits lifted (the load comes from one
# address), runs wrk (2 threads, BENCH_CONN connections, BENCH_SECS seconds
# each; login with one connection per worker), prints one line per endpoint
# and destroys the stack.  A login run on one connection gives the cost of
# one argon2id verification.
#
# Refresh tokens are single use, so the refresh run needs one token per
# request: they are minted straight into the database with the stack's
# refresh key (an independent BLAKE2b implementation, Python's hashlib),
# BENCH_REFRESH_TOKENS of them (default 60000); a run that uses them all
# shows "exhausted" 401s in the Non-2xx column.
set -euo pipefail
. "$(dirname "$0")/benchlib.sh"
root=$bench_root
CONN=${BENCH_CONN:-32}
export BT_WORKERS=${BT_WORKERS:-4} BT_RATE_SCALE=1000000 BT_AUTH_BURST=100000
bench_stack_start accounts
url=$BENCH_URL

email="bench-$$@example.test"; password="bench password 123"
curl -sf -o "$BENCH_DIR/reg.json" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\",\"company_name\":\"Bench $$\",\"region\":\"norway\"}" \
    "$url/auth/register"
access=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$BENCH_DIR/reg.json")

echo "accounts benchmark: $(nproc) cores, $BT_WORKERS workers per pool, wrk -t2 -c$CONN -d${BENCH_SECS}s"

BENCH_CONN=$CONN bench_wrk "GET /player/me" "$url/player/me" -H "Authorization: Bearer $access"

export BENCH_BODY="{\"email\":\"$email\",\"password\":\"$password\"}"
# One connection first (nothing queued yet): the latency is one argon2id
# verification plus the rest of the request - the measured cost per hash.
BENCH_THREADS=1 BENCH_CONN=1 bench_wrk "login, 1 connection" "$url/auth/login" \
    -s "$root/scripts/bench/post.lua"
# Then as many connections as workers: login is bound by argon2id by design,
# more connections only queue (and abandoned requests keep the workers busy).
BENCH_CONN=$BT_WORKERS bench_wrk "POST /auth/login" "$url/auth/login" -s "$root/scripts/bench/post.lua"

uid=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"]["id"])' "$BENCH_DIR/reg.json")
/usr/bin/python3 "$root/scripts/bench/mint_refresh.py" "$BENCH_VAR" "$uid" \
    "${BENCH_REFRESH_TOKENS:-60000}" "$BENCH_DIR/tokens.txt"
BENCH_TOKENS=$BENCH_DIR/tokens.txt BENCH_CONN=$CONN bench_wrk "POST /auth/refresh" \
    "$url/auth/refresh" -s "$root/scripts/bench/refresh.lua"
