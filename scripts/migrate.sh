#!/usr/bin/env bash
# migrate.sh - applies migrations/NNNN_name.sql in order (idempotent).
#
# Each file runs in its own transaction together with the row recording it
# in schema_migrations (version, sha256).  A transaction-scoped advisory
# lock serialises concurrent runners, and a version is re-checked under the
# lock, so two runners never apply a file twice.  A file whose content
# changed after it was applied is an error: write a new migration instead.
# Migration files must not contain BEGIN/COMMIT themselves.
#
# Usage: scripts/migrate.sh [DIR [SEED.sql]]
#   Connection: BT_PG_DSN when set (an installation, bt-migrate.service),
#   else the PG* environment.  SEED.sql, when given, runs after the
#   migrations (idempotent inserts, e.g. the default world) with the psql
#   variable tick_ms = BT_TICK_MS (default 5000).
set -euo pipefail
dir=${1:-"$(cd "$(dirname "$0")/.." && pwd)/migrations"}
seed=${2:-}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql=(psql -X -q -v ON_ERROR_STOP=1)
[ -n "${BT_PG_DSN:-}" ] && psql+=(-d "$BT_PG_DSN")

"${psql[@]}" -c "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null

applied=0
for f in "$dir"/[0-9][0-9][0-9][0-9]_*.sql; do
    [ -e "$f" ] || continue
    v=$(basename "$f" .sql)
    sum=$(sha256sum "$f" | cut -c1-64)
    have=$("${psql[@]}" -At -v v="$v" <<<"SELECT checksum FROM schema_migrations WHERE version = :'v'")
    if [ -n "$have" ]; then
        if [ "$have" != "$sum" ]; then
            echo "migrate: $v was changed after it was applied (write a new migration)" >&2
            exit 1
        fi
        continue
    fi
    "${psql[@]}" -v v="$v" -v sum="$sum" -v file="$f" <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(7274201) IS NULL AS locked \gset
SELECT count(*) > 0 AS already FROM schema_migrations WHERE version = :'v' \gset
\if :already
ROLLBACK;
\else
\i :file
INSERT INTO schema_migrations (version, checksum) VALUES (:'v', :'sum');
COMMIT;
\endif
SQL
    applied=$((applied + 1))
    echo "migrate: applied $v"
done
if [ -n "$seed" ]; then
    "${psql[@]}" -v tick_ms="${BT_TICK_MS:-5000}" -f "$seed" > /dev/null
fi
