#!/usr/bin/env bash
# bench_accounts.sh - throughput and p99 of GET /player/me, POST /auth/login
# and POST /auth/refresh through nginx, plus the cost of one argon2id hash.
#
# Starts its own stack under /tmp/bt-bench-accounts on free loopback ports
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
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
SECS=${BENCH_SECS:-10}
CONN=${BENCH_CONN:-32}
dir=/tmp/bt-bench-accounts
rm -rf "$dir"; mkdir -p "$dir"
port=$(/usr/bin/python3 - <<'PY'
import socket
for _ in range(200):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p < 60000 and all(socket.socket().connect_ex(("127.0.0.1", p + i)) != 0 for i in range(4)):
        print(p); break
PY
)
export BUILD BT_VAR=$dir/var PORT=$port BT_RATE_SCALE=1000000 BT_AUTH_RATE=1000000r/s \
       BT_AUTH_BURST=100000 BT_API_RATE=1000000r/s BT_LOG_LEVEL=warn BT_WORKERS=${BT_WORKERS:-4}
url=http://127.0.0.1:$port
stop() { "$root/scripts/stack.sh" destroy >/dev/null 2>&1 || true; }
trap stop EXIT
"$root/scripts/stack.sh" start > "$dir/stack.log" 2>&1 || { tail -20 "$dir/stack.log"; exit 1; }

email="bench-$$@example.test"; password="bench password 123"
curl -sf -o "$dir/reg.json" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\",\"company_name\":\"Bench $$\",\"region\":\"norway\"}" \
    "$url/auth/register"
access=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$dir/reg.json")

row() { # label, wrk output
    printf '%-22s %10s req/s   p50 %-9s p99 %-9s %s\n' "$1" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$2")" "$(awk '$1 == "50%" {print $2}' <<<"$2")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$2")" \
        "$(grep -E 'Non-2xx|Socket errors' <<<"$2" | tr -s ' ' | tr '\n' ' ')"
}

echo "accounts benchmark: $(nproc) cores, $BT_WORKERS workers per pool, wrk -t2 -c$CONN -d${SECS}s"

out=$(wrk -t2 -c"$CONN" -d"${SECS}s" --latency -H "Authorization: Bearer $access" "$url/player/me")
row "GET /player/me" "$out"

export BENCH_BODY="{\"email\":\"$email\",\"password\":\"$password\"}"
# One connection first (nothing queued yet): the latency is one argon2id
# verification plus the rest of the request - the measured cost per hash.
out=$(wrk -t1 -c1 -d"${SECS}s" --latency -s "$root/scripts/bench/post.lua" "$url/auth/login")
row "login, 1 connection" "$out"
# Then as many connections as workers: login is bound by argon2id by design,
# more connections only queue (and abandoned requests keep the workers busy).
out=$(wrk -t2 -c"$BT_WORKERS" -d"${SECS}s" --latency -s "$root/scripts/bench/post.lua" \
      "$url/auth/login")
row "POST /auth/login" "$out"

uid=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"]["id"])' "$dir/reg.json")
/usr/bin/python3 "$root/scripts/bench/mint_refresh.py" "$BT_VAR" "$uid" \
    "${BENCH_REFRESH_TOKENS:-60000}" "$dir/tokens.txt"
out=$(BENCH_TOKENS=$dir/tokens.txt wrk -t2 -c"$CONN" -d"${SECS}s" --latency \
      -s "$root/scripts/bench/refresh.lua" "$url/auth/refresh")
row "POST /auth/refresh" "$out"
