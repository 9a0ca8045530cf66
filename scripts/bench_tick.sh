#!/usr/bin/env bash
# bench_tick.sh - tick benchmark: N companies, K intents per tick.
#
# Starts a private stack (temporary directory, free ports), creates N
# companies (scripts/bench_gen.sql), lets the first tick open them, and with
# RIGS > 0 gives every company one tier-3 hydro site with G groups of
# RIGS / (N * G) Antminer S19 (written straight into the tables, then tickd
# restarted to load them: every company mines and pays energy every tick).
# Then it inserts K site.create intents before every tick for TICKS ticks
# and reports, over those ticks: p50/p99 of compute, commit, publish and
# total tick time (from tickd's per-tick debug line), the p50 of each
# phase's input/step/persist, of the state hash and of the tick record,
# PostgreSQL WAL bytes written per tick (pg_current_wal_lsn difference), the
# mining history's size per stored company result, and tickd's RSS.
#
# Usage: scripts/bench_tick.sh [N=10000] [K=1000] [TICKS=30] [TICK_MS=1000] [RIGS=0] [G=10]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10000}; K=${2:-1000}; TICKS=${3:-30}; TICK_MS=${4:-1000}; RIGS=${5:-0}; G=${6:-10}
BUILD=${BUILD:-build}
VAR=$(mktemp -d /tmp/bt-bench-XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export BT_VAR=$VAR BUILD PORT=$(port) BT_PUB_PORT=$(port) BT_PG_PORT=$(port) BT_REDIS_PORT=$(port)
export BT_TICK_MS=$TICK_MS BT_LOG_LEVEL=debug BT_WORKERS=1
cleanup() { "$ROOT/scripts/stack.sh" destroy > /dev/null 2>&1 || true; rm -rf "$VAR"; }
trap cleanup EXIT
# KEEPLOG=file keeps tickd's log (per-tick debug lines) and PostgreSQL's
# (file.pg) after the run; PGSLOW_MS=n logs statements slower than n ms.
if [ -n "${KEEPLOG:-}" ]; then
    trap 'cp "$VAR/log/tickd.log" "$KEEPLOG"; cp "$VAR/log/postgres.log" "$KEEPLOG.pg"; cleanup' EXIT
fi
"$ROOT/scripts/stack.sh" start > /dev/null
export PGHOST=127.0.0.1 PGPORT=$BT_PG_PORT PGUSER=bt PGDATABASE=bitcoin_tycoon PGPASSFILE=$VAR/secrets/pgpass
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
if [ -n "${PGSLOW_MS:-}" ]; then
    PGUSER=postgres q -c "LOAD 'auto_explain'" \
        -c "ALTER SYSTEM SET log_min_duration_statement = ${PGSLOW_MS}" \
        -c "ALTER SYSTEM SET session_preload_libraries = 'auto_explain'" \
        -c "ALTER SYSTEM SET auto_explain.log_min_duration = ${PGSLOW_MS}" \
        -c "ALTER SYSTEM SET auto_explain.log_analyze = on" \
        -c "ALTER SYSTEM SET auto_explain.log_nested_statements = on" \
        -c "SELECT pg_reload_conf()" > /dev/null
fi
echo "bench: creating $N companies"
q -v companies="$N" -f "$ROOT/scripts/bench_gen.sql" > /dev/null
until [ "$(q -c "SELECT count(*) FROM intents WHERE status = 'queued'")" = 0 ]; do sleep 0.5; done
if [ "$RIGS" -gt 0 ]; then
    R=$((RIGS / (N * G)))
    [ "$R" -ge 1 ] || { echo "bench: RIGS must be at least N * G" >&2; exit 1; }
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
    t=$(q -c "SELECT tick FROM worlds WHERE id = 1")
    until [ "$(q -c "SELECT tick FROM worlds WHERE id = 1")" -gt "$((t + 2))" ]; do sleep 0.2; done
fi
# ONLINE_PCT (default 10) percent of the companies have a live subscriber
# (lib/presence.h): they get player:update; the others are not published to.
ONLINE_PCT=${ONLINE_PCT:-10}
online=$(q -c "SELECT count(*) FROM companies WHERE name LIKE 'bench%' AND id % 100 < $ONLINE_PCT")
q -c "SELECT 'ZADD bt:live:online:1 99999999999999 ' || id FROM companies
      WHERE name LIKE 'bench%' AND id % 100 < $ONLINE_PCT" | redis-cli -p "$BT_REDIS_PORT" > /dev/null
# Presence as on a server that has run longer than BT_LIVE_PRESENCE.
redis-cli -p "$BT_REDIS_PORT" SET bt:live:presence:since 0 > /dev/null
start=$(q -c "SELECT tick FROM worlds WHERE id = 1")
lsn0=$(q -c "SELECT pg_current_wal_lsn()")
# PERF=file records tickd's profile (perf record -g) over the measured ticks.
if [ -n "${PERF:-}" ]; then
    perf record -q -g -o "$PERF" -p "$(awk '{print $1}' "$VAR/run/tickd.pid")" > /dev/null 2>&1 &
    perf_pid=$!
fi
echo "bench: $TICKS ticks with $K intents each"
t=$start
while [ "$t" -lt $((start + TICKS)) ]; do
    q -c "SELECT bench_intents($K)" > /dev/null
    while [ "$(q -c "SELECT tick FROM worlds WHERE id = 1")" = "$t" ]; do sleep 0.02; done
    t=$(q -c "SELECT tick FROM worlds WHERE id = 1")
done
lsn1=$(q -c "SELECT pg_current_wal_lsn()")
if [ -n "${perf_pid:-}" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
end=$(q -c "SELECT tick FROM worlds WHERE id = 1")
wal=$(q -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint / GREATEST($end - $start, 1)")
# Company results per measured tick, and the history's bytes (heap and
# keys) per company result stored (0018), in one pass over the view.
read -r hist hbytes < <(q -F ' ' -c "SELECT count(*) FILTER (WHERE tick > $start AND tick <= $end)
    / GREATEST($end - $start, 1), pg_total_relation_size('mining_history_buckets')
    / GREATEST(count(*), 1) FROM mining_history")
# STATS=1 prints the tables' write counters (inserts, updates, HOT updates).
if [ -n "${STATS:-}" ]; then
    q -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables
          WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY n_tup_ins + n_tup_upd DESC LIMIT 12"
fi
rss=$(awk '/VmRSS/ {print $2}' "/proc/$(awk '{print $1}' "$VAR/run/tickd.pid")/status")
applied=$(q -c "SELECT count(*) FROM intents WHERE applied_tick > $start AND status = 'applied'")
rejected=$(q -c "SELECT count(*) FROM intents WHERE applied_tick > $start AND status = 'rejected'")
python3 - "$VAR/log/tickd.log" "$start" "$N" "$K" "$wal" "$rss" "$applied" "$rejected" "$RIGS" "$hist" "$online" "$hbytes" <<'PY'
import json, re, sys
log, start, n, k, wal, rss, applied, rejected, rigs, hist, online, hbytes = sys.argv[1:]
rows, phases = [], {}
for line in open(log, errors="replace"):
    m = re.search(r'world 1 tick (\d+) intents (\d+) compute_us (\d+) commit_us (\d+) publish_us (\d+)', line)
    if m and int(m.group(1)) > int(start):
        t, i, c, cm, p = map(int, m.groups())
        rows.append((c, cm, p, c + cm + p))
    m = re.search(r'world 1 tick (\d+) phases_us\(input/step/persist\)(.*)', line)
    if m and int(m.group(1)) > int(start):
        for name, v in re.findall(r' (\w+) ([\d/]+)', m.group(2)):
            for part, x in zip(("input", "step", "persist") if "/" in v else (name,), v.split("/")):
                phases.setdefault(name if "/" not in v else f"{name}.{part}", []).append(int(x))
def pct(v, q):
    v = sorted(v); return v[min(len(v) - 1, int(q * len(v)))] / 1000 if v else float("nan")
print(f"companies={n} (online {online}) rigs={rigs} intents/tick={k} ticks={len(rows)} applied={applied} rejected={rejected}")
for name, col in (("compute", 0), ("commit", 1), ("publish", 2), ("total", 3)):
    vals = [r[col] for r in rows]
    print(f"  {name:8s} p50 {pct(vals, .5):8.1f} ms   p99 {pct(vals, .99):8.1f} ms")
print("  p50 by part (ms): " + " ".join(f"{k} {pct(v, .5):.1f}" for k, v in phases.items() if pct(v, .5) >= 0.1))
print(f"  WAL bytes per tick: {int(wal):,}   mining results per tick: {hist}"
      f" ({hbytes} bytes each in mining_history_buckets)")
print(f"  tickd RSS: {int(rss) // 1024} MiB")
PY
