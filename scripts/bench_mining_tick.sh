#!/usr/bin/env bash
# bench_mining_tick.sh - the mining phase inside real ticks: N companies,
# one site each, G rig groups of R rigs per site (default 10,000 x 10 x 10
# = 1,000,000 rigs), every company mining and paying energy each tick.
#
# Starts a private stack (temporary directory, free ports), creates the
# companies (scripts/bench_gen.sql) and lets a tick open them, writes the
# sites and rig groups straight into their tables, restarts tickd so it
# loads them, then reports over TICKS ticks: p50/p99 of compute, commit,
# publish and total tick time (tickd's per-tick debug line), WAL bytes and
# mining_history rows per tick, and tickd's RSS.
#
# Usage: scripts/bench_mining_tick.sh [N=10000] [G=10] [R=10] [TICKS=30] [TICK_MS=1000]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10000}; G=${2:-10}; R=${3:-10}; TICKS=${4:-30}; TICK_MS=${5:-1000}
BUILD=${BUILD:-build}
VAR=$(mktemp -d /tmp/bt-bench-XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export BT_VAR=$VAR BUILD PORT=$(port) BT_PUB_PORT=$(port) BT_PG_PORT=$(port) BT_REDIS_PORT=$(port)
export BT_TICK_MS=$TICK_MS BT_LOG_LEVEL=debug BT_WORKERS=1
cleanup() { "$ROOT/scripts/stack.sh" destroy > /dev/null 2>&1 || true; rm -rf "$VAR"; }
trap cleanup EXIT
# KEEPLOG=file keeps tickd's log (per-tick debug lines) after the run.
if [ -n "${KEEPLOG:-}" ]; then trap 'cp "$VAR/log/tickd.log" "$KEEPLOG"; cleanup' EXIT; fi
"$ROOT/scripts/stack.sh" start > /dev/null
export PGHOST=127.0.0.1 PGPORT=$BT_PG_PORT PGUSER=bt PGDATABASE=bitcoin_tycoon PGPASSFILE=$VAR/secrets/pgpass
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
echo "bench: creating $N companies"
q -v companies="$N" -f "$ROOT/scripts/bench_gen.sql" > /dev/null
until [ "$(q -c "SELECT count(*) FROM intents WHERE status = 'queued'")" = 0 ]; do sleep 0.5; done
echo "bench: $N sites with $G groups of $R s19 rigs each"
# Ids far above any intent id (sites and groups are keyed by intent ids).
q -v g="$G" -v r="$R" <<'SQL' > /dev/null
INSERT INTO sites (id, world_id, company_id, region, grid_tier, cooling_type, name, build_cost,
                   created_tick, capacity_w, slots)
SELECT 1000000000000 + c.id, 1, c.id,
       (ARRAY['texas','quebec','iceland','kazakhstan','paraguay','norway'])[1 + c.id % 6],
       3, 'hydro', 'bench', 0, w.tick, 10000000, 1800
FROM companies c, worlds w WHERE c.name LIKE 'bench%' AND w.id = 1;
INSERT INTO site_rigs (id, site_id, model, count, windex0, installed_tick)
SELECT 2000000000000 + s.company_id * 100 + k, s.id, 's19', :r, 0, s.created_tick
FROM sites s, generate_series(1, :g) k WHERE s.name = 'bench';
SQL
"$ROOT/scripts/stack.sh" stop tickd > /dev/null
"$ROOT/scripts/stack.sh" start tickd > /dev/null
start=$(q -c "SELECT tick FROM worlds WHERE id = 1")
until [ "$(q -c "SELECT tick FROM worlds WHERE id = 1")" -gt "$((start + 2))" ]; do sleep 0.2; done
start=$(q -c "SELECT tick FROM worlds WHERE id = 1")
lsn0=$(q -c "SELECT pg_current_wal_lsn()")
echo "bench: $TICKS ticks"
until [ "$(q -c "SELECT tick FROM worlds WHERE id = 1")" -ge "$((start + TICKS))" ]; do sleep 0.2; done
lsn1=$(q -c "SELECT pg_current_wal_lsn()")
end=$(q -c "SELECT tick FROM worlds WHERE id = 1")
wal=$(q -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint / GREATEST($end - $start, 1)")
hist=$(q -c "SELECT count(*) / GREATEST($end - $start, 1) FROM mining_history WHERE tick > $start AND tick <= $end")
rigs=$(q -c "SELECT sum(count) FROM site_rigs")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$(awk '{print $1}' "$VAR/run/tickd.pid")/status")
python3 - "$VAR/log/tickd.log" "$start" "$N" "$rigs" "$wal" "$rss" "$hist" <<'PY'
import re, sys
log, start, n, rigs, wal, rss, hist = sys.argv[1:]
rows = []
for line in open(log, errors="replace"):
    m = re.search(r'world 1 tick (\d+) intents (\d+) compute_us (\d+) commit_us (\d+) publish_us (\d+)', line)
    if m and int(m.group(1)) > int(start):
        t, i, c, cm, p = map(int, m.groups())
        rows.append((c, cm, p, c + cm + p))
def pct(v, q):
    v = sorted(v); return v[min(len(v) - 1, int(q * len(v)))] / 1000 if v else float("nan")
print(f"companies={n} rigs={int(rigs):,} ticks={len(rows)} history rows/tick={hist}")
for name, col in (("compute", 0), ("commit", 1), ("publish", 2), ("total", 3)):
    vals = [r[col] for r in rows]
    print(f"  {name:8s} p50 {pct(vals, .5):8.1f} ms   p99 {pct(vals, .99):8.1f} ms")
print(f"  WAL bytes per tick: {int(wal):,}")
print(f"  tickd RSS: {int(rss) // 1024} MiB")
PY
