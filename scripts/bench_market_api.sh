#!/usr/bin/env bash
# bench_market_api.sh - the market service against the peer (the seed's
# Node.js + Express + PostgreSQL + Redis stack, ../shared/peer/run.sh) in
# the same run, with the same wrk settings (-t2 -c64, BENCH_SECS seconds):
#   GET  /market/list   public, through nginx (1 s micro-cache, Redis per tick)
#   POST /market/trade  JWT check, body validation, the market rules against
#                       the last committed state (one query), rate limit,
#                       Idempotency-Key (a fresh one per request), durable
#                       INSERT of the intent
# and prints ours/peer ratios.  The world is paused while the trades are
# measured, so every request is a 202 against the same committed state and
# tickd's matching of the backlog does not share the two cores with the
# measurement (matching is bench_market.sh).  Rate limits are lifted.
#
# Floors (issue 6): list >= 3x the peer's req/s with a lower p99; trade
# >= 2x the peer's req/s with p99 < 20 ms.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchlib.sh
. "$root/scripts/benchlib.sh"
peer=${BENCH_PEER:-$root/../shared/peer/run.sh}
[ -x "$peer" ] || { echo "bench market_api: no peer at $peer"; exit 1; }

bench_stack_start market_api
url=$BENCH_URL
admin=$(bench_token admin)
curl -sf -o "$BENCH_DIR/reg.json" -H 'Content-Type: application/json' \
    -d "{\"email\":\"mkt-$$@example.test\",\"password\":\"bench password 123\",\"company_name\":\"Mkt $$\",\"region\":\"norway\"}" \
    "$url/auth/register"
tok=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' \
    "$BENCH_DIR/reg.json")
body='{"instrument":"BTC-USD","side":"buy","type":"market","qty":"0.01"}'
# Wait until the company is open and the market has ticked (a 202 answer).
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' -d "$body" "$url/market/trade")
    [ "$code" = 202 ] && break
    sleep 0.2
done
[ "$code" = 202 ] || { echo "bench market_api: trade answers $code"; exit 1; }
curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"status":"paused"}' "$url/api/admin/worlds/1"

cat > "$BENCH_DIR/trade.lua" <<LUA
-- A fresh Idempotency-Key per request: thread number (a global set by
-- setup) and a per-thread counter.
local threads, n = 0, 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function request()
  n = n + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer $tok", ["Idempotency-Key"] = "b" .. tid .. "-" .. n}, '$body')
end
LUA

curl -sf -o /dev/null "$url/market/list"   # a warm cache, as in service
echo "market API benchmark: $(nproc) cores, wrk -t${BENCH_THREADS:-2} -c${BENCH_CONN:-64} -d${BENCH_SECS}s"
ours_list=$(bench_wrk "ours GET /market/list" "$url/market/list")
ours_trade=$(bench_wrk "ours POST /market/trade" "$url/market/trade" -s "$BENCH_DIR/trade.lua")
echo "$ours_list"
echo "$ours_trade"
bench_stack_stop

# The peer leaves background processes behind on its stdout while it runs:
# its output goes through a file, never a pipe we would wait on.
# run.sh gives its server 1.5 s to listen and stops at the first wrk that
# finds nothing (set -e): on a loaded machine that can happen, so clean up
# what it left running and try again (at most 3 runs).
peer_cleanup() {
    [ -f /tmp/bt-peer/node.pid ] && kill "$(cat /tmp/bt-peer/node.pid)" 2>/dev/null || true
    redis-cli -p 16390 shutdown nosave >/dev/null 2>&1 || true
    [ -d /tmp/bt-peer/pg ] && su postgres -c "pg_ctl -D /tmp/bt-peer/pg stop -m fast" \
        >/dev/null 2>&1 || true
}
peer_log=$(mktemp)
for _ in 1 2 3; do
    # benchlib exported PORT (ours); the peer reads PORT too.
    env -u PORT "$peer" "$BENCH_SECS" >"$peer_log" 2>&1 </dev/null || true
    [ "$(grep -c 'Requests/sec' "$peer_log")" = 2 ] && break
    echo "(peer run incomplete, retrying)"; peer_cleanup; sleep 2
done
peer_out=$(grep -E '^==|Requests/sec|50%|99%|Non-2xx' "$peer_log")
rm -f "$peer_log"
echo "$peer_out"

# ratios: req/s ours / peer, and p99 of both
/usr/bin/python3 - "$ours_list" "$ours_trade" "$peer_out" <<'PY'
import re, sys
def ms(s):
    v, u = float(re.match(r"([\d.]+)(\w+)", s).group(1)), re.match(r"[\d.]+(\w+)", s).group(1)
    return v * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def ours(line):
    m = re.search(r"([\d.]+) req/s\s+p50 (\S+)\s+p99 (\S+)", line)
    return float(m.group(1)), ms(m.group(3))
def peer(text, label):
    part = text.split(label, 1)[1]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", part).group(1))
    p99 = ms(re.search(r"99%\s+(\S+)", part).group(1))
    return rps, p99
ol, ot = ours(sys.argv[1]), ours(sys.argv[2])
pl, pt = peer(sys.argv[3], "GET /market/list"), peer(sys.argv[3], "POST /market/trade")
ok = True
for name, o, p, floor, p99max in (("GET /market/list", ol, pl, 3.0, None),
                                  ("POST /market/trade", ot, pt, 2.0, 20.0)):
    ratio = o[0] / p[0]
    good = ratio >= floor and (o[1] < p[1] if p99max is None else o[1] < p99max)
    ok &= good
    print(f"{name:20s} ours {o[0]:9.0f} req/s p99 {o[1]:6.2f} ms | peer {p[0]:8.0f} req/s "
          f"p99 {p[1]:6.2f} ms | ratio {ratio:5.2f}x (floor {floor}x) {'ok' if good else 'SHORT'}")
sys.exit(0 if ok else 1)
PY
