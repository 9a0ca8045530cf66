#!/usr/bin/env bash
# bench_tick.sh - tick benchmark: N companies, K intents per tick.
#
# Starts a private stack (temporary directory, free ports), creates N
# companies (scripts/bench_gen.sql), lets the first tick open them, then
# inserts K site.create intents before every tick for TICKS ticks and
# reports, over those ticks: p50/p99 of compute, commit, publish and total
# tick time (from tickd's per-tick debug line), PostgreSQL WAL bytes
# written per tick (pg_current_wal_lsn difference) and tickd's RSS.
#
# Usage: scripts/bench_tick.sh [N=10000] [K=1000] [TICKS=30] [TICK_MS=1000]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10000}; K=${2:-1000}; TICKS=${3:-30}; TICK_MS=${4:-1000}
BUILD=${BUILD:-build}
VAR=$(mktemp -d /tmp/bt-bench-XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export BT_VAR=$VAR BUILD PORT=$(port) BT_PUB_PORT=$(port) BT_PG_PORT=$(port) BT_REDIS_PORT=$(port)
export BT_TICK_MS=$TICK_MS BT_LOG_LEVEL=debug BT_WORKERS=1
cleanup() { "$ROOT/scripts/stack.sh" destroy > /dev/null 2>&1 || true; rm -rf "$VAR"; }
trap cleanup EXIT
"$ROOT/scripts/stack.sh" start > /dev/null
export PGHOST=127.0.0.1 PGPORT=$BT_PG_PORT PGUSER=bt PGDATABASE=bitcoin_tycoon PGPASSFILE=$VAR/secrets/pgpass
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
echo "bench: creating $N companies"
q -v companies="$N" -f "$ROOT/scripts/bench_gen.sql" > /dev/null
until [ "$(q -c "SELECT count(*) FROM intents WHERE status = 'queued'")" = 0 ]; do sleep 0.5; done
start=$(q -c "SELECT tick FROM worlds WHERE id = 1")
lsn0=$(q -c "SELECT pg_current_wal_lsn()")
echo "bench: $TICKS ticks with $K intents each"
t=$start
while [ "$t" -lt $((start + TICKS)) ]; do
    q -c "SELECT bench_intents($K)" > /dev/null
    while [ "$(q -c "SELECT tick FROM worlds WHERE id = 1")" = "$t" ]; do sleep 0.02; done
    t=$(q -c "SELECT tick FROM worlds WHERE id = 1")
done
lsn1=$(q -c "SELECT pg_current_wal_lsn()")
end=$(q -c "SELECT tick FROM worlds WHERE id = 1")
wal=$(q -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint / GREATEST($end - $start, 1)")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$(awk '{print $1}' "$VAR/run/tickd.pid")/status")
applied=$(q -c "SELECT count(*) FROM intents WHERE applied_tick > $start AND status = 'applied'")
rejected=$(q -c "SELECT count(*) FROM intents WHERE applied_tick > $start AND status = 'rejected'")
python3 - "$VAR/log/tickd.log" "$start" "$N" "$K" "$wal" "$rss" "$applied" "$rejected" <<'PY'
import json, re, sys
log, start, n, k, wal, rss, applied, rejected = sys.argv[1:]
rows = []
for line in open(log, errors="replace"):
    m = re.search(r'world 1 tick (\d+) intents (\d+) compute_us (\d+) commit_us (\d+) publish_us (\d+)', line)
    if m and int(m.group(1)) > int(start):
        t, i, c, cm, p = map(int, m.groups())
        rows.append((c, cm, p, c + cm + p))
def pct(v, q):
    v = sorted(v); return v[min(len(v) - 1, int(q * len(v)))] / 1000 if v else float("nan")
print(f"companies={n} intents/tick={k} ticks={len(rows)} applied={applied} rejected={rejected}")
for name, col in (("compute", 0), ("commit", 1), ("publish", 2), ("total", 3)):
    vals = [r[col] for r in rows]
    print(f"  {name:8s} p50 {pct(vals, .5):8.1f} ms   p99 {pct(vals, .99):8.1f} ms")
print(f"  WAL bytes per tick: {int(wal):,}")
print(f"  tickd RSS: {int(rss) // 1024} MiB")
PY
