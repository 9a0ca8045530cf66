#!/usr/bin/env bash
# stack.sh - the whole local stack as plain processes on loopback.
#
#   stack.sh run                 start everything, print the URLs, stay in the
#                                foreground; Ctrl-C (or `stack.sh stop`) stops all
#   stack.sh start [component]   start everything (or one component) and return
#   stack.sh stop [component]    stop everything (or one component)
#   stack.sh status              what runs, with pids
#   stack.sh env                 print the environment the processes get
#   stack.sh destroy             stop everything and delete $BT_VAR
#
# Components: postgres redis pools tickd nginx (pools = every FastCGI service).
#
# State lives under $BT_VAR (default ./var): the PostgreSQL cluster, Redis,
# rendered nginx config, sockets, pid files, logs and generated secrets.
# Every process we start carries BT_STACK_ID=$BT_VAR in its environment, so
# leftovers of a crashed run are found and stopped even without pid files.
#
# As root: PostgreSQL runs as the `postgres` user (it refuses root), from a
# directory that user can reach (a /var/tmp directory symlinked as var/pg if
# the checkout itself is not reachable); nginx workers run as root so they
# can reach sockets and files inside the checkout.
#
# Ports: PORT (API, 8080), BT_PUB_PORT (publisher, PORT+1), BT_PG_PORT
# (PORT+2), BT_REDIS_PORT (PORT+3).  Everything binds to 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BIN=$BUILD/bin ;; *) BIN=$ROOT/$BUILD/bin ;; esac
VAR=${BT_VAR:-$ROOT/var}
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)
RUN=$VAR/run
LOG=$VAR/log
SECRETS=$VAR/secrets
PORT=${PORT:-8080}
PUB_PORT=${BT_PUB_PORT:-$((PORT + 1))}
PG_PORT=${BT_PG_PORT:-$((PORT + 2))}
REDIS_PORT=${BT_REDIS_PORT:-$((PORT + 3))}
TICK_MS=${BT_TICK_MS:-5000}
WORKERS=${BT_WORKERS:-4}
SERVICES=(auth player site market research governance event admin)
STOP_ORDER=(nginx pools tickd redis postgres)
START_ORDER=(postgres redis pools tickd nginx)

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
# Marks the daemons we start (never this script itself, see stack_pids).
MARK="BT_STACK_ID=$VAR"

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$d" ] || die "PostgreSQL server binaries not found (run: make deps)"
    echo "$d"
}

as_pg() {
    if [ $IS_ROOT = 1 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

gen_secret() { head -c "$1" /dev/urandom | base64 | tr -d '\n/+=' | head -c "$2"; }

# ---- pid files: "pid starttime" so a recycled pid is never killed ----

proc_start() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# True while pid exists and is not a zombie waiting for init to reap it.
proc_running() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

write_pid() { echo "$2 $(proc_start "$2")" > "$RUN/$1.pid"; }

pid_alive() {
    local f=$RUN/$1.pid pid st
    [ -f "$f" ] || return 1
    read -r pid st < "$f" || return 1
    [ -n "${pid:-}" ] && proc_running "$pid" && [ "$(proc_start "$pid")" = "${st:-}" ]
}

pid_of() { awk '{print $1}' "$RUN/$1.pid" 2>/dev/null; }

# Stops the process recorded in $RUN/$1.pid: signal $2, SIGKILL after $3 s.
stop_pid() {
    local name=$1 sig=$2 grace=$3 pid i
    if pid_alive "$name"; then
        pid=$(pid_of "$name")
        kill "-$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < grace * 20; i++)); do
            proc_running "$pid" || break
            sleep 0.05
        done
        if proc_running "$pid"; then
            say "$name (pid $pid) did not stop in ${grace}s; killing"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$RUN/$name.pid"
}

# Processes of this stack (by the BT_STACK_ID marker), e.g. after a crash.
# Only our own binaries keep the marker readable: nginx, PostgreSQL and
# Redis rewrite their process titles over it; their stop functions find
# leftovers through their own pid files and data directories instead.
stack_pids() {
    local f
    for f in /proc/[0-9]*/environ; do
        if { tr '\0' '\n' < "$f"; } 2>/dev/null | grep -qxF "BT_STACK_ID=$VAR"; then
            f=${f#/proc/}
            echo "${f%/environ}"
        fi
    done
}

# ---- environment of every process ----

write_env() {
    local asan=""
    mkdir -p "$RUN" "$LOG" "$SECRETS" "$RUN/metrics"
    chmod 700 "$SECRETS"
    if [ ! -s "$SECRETS/jwt.key" ]; then
        (umask 077; gen_secret 96 64 > "$SECRETS/jwt.key")
    fi
    if [ ! -s "$SECRETS/refresh.key" ]; then
        (umask 077; gen_secret 96 64 > "$SECRETS/refresh.key")
    fi
    case $BUILD in *asan*) asan=1 ;; esac
    {
        echo "BT_VAR=$VAR"
        echo "BT_RUN_DIR=$RUN"
        echo "BT_LOG_LEVEL=${BT_LOG_LEVEL:-info}"
        echo "BT_PG_DSN=\"host=127.0.0.1 port=$PG_PORT dbname=bitcoin_tycoon user=bt\""
        echo "PGPASSFILE=$SECRETS/pgpass"
        echo "BT_REDIS_HOST=127.0.0.1"
        echo "BT_REDIS_PORT=$REDIS_PORT"
        echo "BT_JWT_SECRET_FILE=$SECRETS/jwt.key"
        echo "BT_REFRESH_KEY_FILE=$SECRETS/refresh.key"
        echo "BT_PUBLIC_URL=http://127.0.0.1:$PORT"
        echo "BT_NCHAN_PUB_URL=http://127.0.0.1:$PUB_PORT"
        echo "BT_TICK_MS=$TICK_MS"
        echo "BT_RATE_SCALE=${BT_RATE_SCALE:-1}"
        echo "BT_BODY_MAX=${BT_BODY_MAX:-65536}"
        echo "BT_SNAPSHOT_EVERY=${BT_SNAPSHOT_EVERY:-100}"
        echo "BT_HISTORY_TICKS=${BT_HISTORY_TICKS:-17280}"
        if [ -n "$asan" ]; then
            echo "ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:log_path=$LOG/asan"
            echo "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$LOG/ubsan"
            echo "LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
        fi
    } > "$VAR/bt.env"
}

load_env() {
    set -a
    # shellcheck disable=SC1091
    . "$VAR/bt.env"
    set +a
}

# ---- PostgreSQL ----

pg_data() {
    local real=$VAR/pg
    if [ $IS_ROOT = 1 ] && [ ! -L "$VAR/pg" ] && ! runuser -u postgres -- test -x "$VAR" 2>/dev/null; then
        # The postgres user cannot reach the checkout (e.g. under /root):
        # keep the cluster in a directory it can reach, linked as var/pg.
        real=/var/tmp/bitcoin-tycoon-$(echo "$VAR" | sha1sum | cut -c1-12)/pg
        mkdir -p "$(dirname "$real")"
        chmod 755 "$(dirname "$real")"
        ln -sfn "$real" "$VAR/pg"
    fi
    if [ -L "$VAR/pg" ]; then readlink -f "$VAR/pg"; else echo "$real"; fi
}

start_postgres() {
    local bin data pw apppw tmp
    bin=$(pg_bin)
    data=$(pg_data)
    if [ ! -f "$data/PG_VERSION" ] || [ ! -f "$data/.bt-ready" ]; then
        [ -d "$data" ] && say "postgres: removing a half-initialised cluster"
        rm -rf "${data:?}"
        mkdir -p "$data"
        [ $IS_ROOT = 1 ] && chown postgres: "$data"
        chmod 700 "$data"
        pw=$(gen_secret 48 32)
        apppw=$(gen_secret 48 32)
        (umask 077
         printf '127.0.0.1:%s:*:postgres:%s\n127.0.0.1:%s:*:bt:%s\n' \
             "$PG_PORT" "$pw" "$PG_PORT" "$apppw" > "$SECRETS/pgpass")
        tmp=$(mktemp)
        printf '%s\n' "$pw" > "$tmp"
        [ $IS_ROOT = 1 ] && chown postgres: "$tmp"
        as_pg "$bin/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$tmp" \
            -E UTF8 --locale=C.UTF-8 --no-instructions > "$LOG/initdb.log" 2>&1 ||
            { rm -f "$tmp"; cat "$LOG/initdb.log" >&2; die "initdb failed"; }
        rm -f "$tmp"
        cat >> "$data/postgresql.conf" <<CONF
# bitcoin-tycoon local stack
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
fsync = on
synchronous_commit = on
# Group commit: a committing backend waits 50 us for others (when at least
# two more transactions are open) so that one WAL flush makes several
# commits durable; every commit is still flushed before it is answered.
commit_delay = 50
commit_siblings = 2
log_min_duration_statement = 1000
log_line_prefix = '%m [%p] %q%u@%d '
CONF
    fi
    # The server log must be writable by the postgres user: beside the data
    # directory when that was relocated, linked into $LOG either way.
    local pglog=$LOG/postgres.log
    if [ -L "$VAR/pg" ]; then
        pglog=$(dirname "$data")/postgres.log
        ln -sfn "$pglog" "$LOG/postgres.log"
    fi
    touch "$pglog"
    [ $IS_ROOT = 1 ] && chown postgres: "$pglog"
    # The port is given on the command line so that a changed PORT just works.
    local pgctl=("$bin/pg_ctl" -D "$data" -l "$pglog" -w -t 60 -o "-p $PG_PORT" start)
    [ $IS_ROOT = 1 ] && pgctl=(runuser -u postgres -- "${pgctl[@]}")
    env "$MARK" setsid "${pgctl[@]}" > "$LOG/pg_ctl.log" 2>&1 ||
        { tail -20 "$LOG/postgres.log" >&2; die "postgres did not start"; }
    local ppid
    ppid=$(head -1 "$data/postmaster.pid")
    write_pid postgres "$ppid"
    if [ ! -f "$data/.bt-ready" ]; then
        apppw=$(awk -F: '$4 == "bt" {print $5}' "$SECRETS/pgpass")
        PGUSER=postgres PGHOST=127.0.0.1 PGPORT=$PG_PORT PGDATABASE=postgres \
            psql -X -q -v ON_ERROR_STOP=1 -v pw="$apppw" <<'SQL' > /dev/null
CREATE ROLE bt LOGIN PASSWORD :'pw';
CREATE DATABASE bitcoin_tycoon OWNER bt ENCODING 'UTF8' TEMPLATE template0;
SQL
        touch "$data/.bt-ready"
        [ $IS_ROOT = 1 ] && chown postgres: "$data/.bt-ready"
    fi
    PGUSER=bt PGHOST=127.0.0.1 PGPORT=$PG_PORT PGDATABASE=bitcoin_tycoon \
        "$ROOT/scripts/migrate.sh" "$ROOT/migrations"
    PGUSER=bt PGHOST=127.0.0.1 PGPORT=$PG_PORT PGDATABASE=bitcoin_tycoon \
        psql -X -q -v ON_ERROR_STOP=1 -v tick_ms="$TICK_MS" -f "$ROOT/scripts/seed.sql" > /dev/null
}

stop_postgres() {
    local data bin
    data=$(readlink -f "$VAR/pg" 2>/dev/null || echo "$VAR/pg")
    if [ -f "$data/postmaster.pid" ]; then
        bin=$(pg_bin)
        as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop > /dev/null 2>&1 || true
    fi
    stop_pid postgres TERM 10
}

# ---- Redis ----

start_redis() {
    mkdir -p "$VAR/redis"
    env "$MARK" setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --save '' --appendonly no --dir "$VAR/redis" --daemonize no \
        --logfile "$LOG/redis.log" --maxmemory 1gb --maxmemory-policy noeviction \
        < /dev/null > /dev/null 2>&1 &
    write_pid redis $!
    local i
    for ((i = 0; i < 100; i++)); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    die "redis did not start (see $LOG/redis.log)"
}

stop_redis() {
    stop_pid redis TERM 10
    # A Redis of this stack without a pid file (crashed run): identify it by
    # its data directory before shutting it down.
    if [ "$(redis-cli -p "$REDIS_PORT" config get dir 2>/dev/null | tail -1)" = "$VAR/redis" ]; then
        redis-cli -p "$REDIS_PORT" shutdown nosave > /dev/null 2>&1 || true
    fi
}

# ---- FastCGI pools ----

start_pools() {
    local svc i ok
    for svc in "${SERVICES[@]}"; do
        [ -x "$BIN/bt-$svc" ] || die "$BIN/bt-$svc is missing (run: make)"
        rm -f "$RUN/$svc.sock"
        env "$MARK" BT_SOCKET="$RUN/$svc.sock" BT_WORKERS="$WORKERS" \
            setsid "$BIN/bt-$svc" < /dev/null >> "$LOG/$svc.log" 2>&1 &
        write_pid "$svc" $!
    done
    for svc in "${SERVICES[@]}"; do
        ok=0
        for ((i = 0; i < 100; i++)); do
            [ -S "$RUN/$svc.sock" ] && { ok=1; break; }
            pid_alive "$svc" || break
            sleep 0.05
        done
        [ $ok = 1 ] || { tail -5 "$LOG/$svc.log" >&2; die "pool $svc did not start"; }
    done
}

stop_pools() {
    local svc
    for svc in "${SERVICES[@]}"; do
        pid_alive "$svc" && kill -TERM "$(pid_of "$svc")" 2>/dev/null || true
    done
    for svc in "${SERVICES[@]}"; do stop_pid "$svc" TERM 15; rm -f "$RUN/$svc.sock"; done
}

# ---- tickd ----

start_tickd() {
    [ -x "$BIN/tickd" ] || die "$BIN/tickd is missing (run: make)"
    env "$MARK" setsid "$BIN/tickd" < /dev/null >> "$LOG/tickd.log" 2>&1 &
    write_pid tickd $!
}

stop_tickd() { stop_pid tickd TERM 15; }

# ---- nginx ----

start_nginx() {
    local conf=$VAR/nginx/conf user=""
    mkdir -p "$VAR/nginx/tmp" "$VAR/nginx/cache" "$conf"
    port_busy "$PORT" && die "port $PORT is already in use (set PORT=...)"
    port_busy "$PUB_PORT" && die "port $PUB_PORT is already in use (set BT_PUB_PORT=...)"
    [ $IS_ROOT = 1 ] && user="root root"
    # BT_NCHAN_REDIS=local shares channels through this stack's Redis (so
    # more nginx nodes can join); a redis:// URL names another server.
    local nchan_redis=${BT_NCHAN_REDIS:-}
    [ "$nchan_redis" = local ] && nchan_redis=redis://127.0.0.1:$REDIS_PORT
    BT_VAR=$VAR BT_RUN_DIR=$RUN BT_LOG_DIR=$LOG BT_LISTEN=127.0.0.1:$PORT \
        BT_PUB_PORT=$PUB_PORT BT_NGINX_USER=$user BT_NCHAN_REDIS=$nchan_redis \
        "$ROOT/scripts/render-nginx.sh" "$conf"
    nginx -t -q -e "$LOG/nginx-error.log" -p "$VAR/nginx" -c "$conf/nginx.conf" ||
        die "nginx configuration test failed"
    rm -f "$RUN/nginx.pid"
    env "$MARK" setsid nginx -e "$LOG/nginx-error.log" -p "$VAR/nginx" -c "$conf/nginx.conf" \
        -g 'daemon off;' < /dev/null >> "$LOG/nginx.out" 2>&1 &
    write_pid nginx $!
    local i
    for ((i = 0; i < 100; i++)); do
        port_busy "$PORT" && return 0
        pid_alive nginx || break
        sleep 0.05
    done
    tail -5 "$LOG/nginx-error.log" >&2
    die "nginx did not start"
}

stop_nginx() {
    local pid i
    stop_pid nginx QUIT 10
    # nginx rewrites its process title (and so its environment), so a
    # leftover master is found through its own pid file instead.
    pid=$(cat "$RUN/nginx-master.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && grep -q "$VAR/nginx" "/proc/$pid/cmdline" 2>/dev/null; then
        kill -QUIT "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do proc_running "$pid" || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/nginx-master.pid"
}

# ---- orchestration ----

start_component() {
    case $1 in
    postgres) start_postgres ;;
    redis) start_redis ;;
    pools) start_pools ;;
    tickd) start_tickd ;;
    nginx) start_nginx ;;
    *) die "unknown component $1" ;;
    esac
}

stop_component() {
    case $1 in
    postgres) stop_postgres ;;
    redis) stop_redis ;;
    pools) stop_pools ;;
    tickd) stop_tickd ;;
    nginx) stop_nginx ;;
    *) die "unknown component $1" ;;
    esac
}

stop_all() {
    local c pid left
    mkdir -p "$RUN"
    touch "$RUN/stopping"
    for c in "${STOP_ORDER[@]}"; do stop_component "$c"; done
    # Anything of ours still alive (e.g. after a crash lost the pid files).
    left=$(stack_pids)
    if [ -n "$left" ]; then
        for pid in $left; do kill -TERM "$pid" 2>/dev/null || true; done
        sleep 1
        for pid in $(stack_pids); do kill -KILL "$pid" 2>/dev/null || true; done
    fi
    rm -f "$RUN"/*.sock
}

wait_ready() {
    local i deadline=$((SECONDS + ${BT_READY_TIMEOUT:-60}))
    while [ $SECONDS -lt $deadline ]; do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    curl -sS "http://127.0.0.1:$PORT/readyz" >&2 || true
    die "the stack did not become ready in ${BT_READY_TIMEOUT:-60}s (logs: $LOG)"
}

start_all() {
    stop_all > /dev/null
    rm -f "$RUN/stopping"
    write_env
    load_env
    for c in "${START_ORDER[@]}"; do start_component "$c"; done
    wait_ready
}

print_urls() {
    cat <<TXT
Bitcoin Tycoon is running (state in $VAR, logs in $LOG):
  API            http://127.0.0.1:$PORT/
  Admin panel    http://127.0.0.1:$PORT/admin/
  Live channel   http://127.0.0.1:$PORT/live/world/1   (SSE, WebSocket, long-poll)
  Readiness      http://127.0.0.1:$PORT/readyz
  Metrics        http://127.0.0.1:$PORT/metrics
Press Ctrl-C (or run 'make stop') to stop every process.
TXT
}

status() {
    local c svc
    for c in postgres redis tickd nginx "${SERVICES[@]}"; do
        if pid_alive "$c"; then printf '%-11s running (pid %s)\n' "$c" "$(pid_of "$c")"
        else printf '%-11s stopped\n' "$c"; fi
    done
}

cmd=${1:-run}
shift || true
case $cmd in
run)
    trap 'echo; say "stopping"; stop_all; exit 0' INT TERM
    start_all
    print_urls
    while sleep 1; do
        [ -f "$RUN/stopping" ] && { say "stopped by 'make stop'"; exit 0; }
        for c in postgres redis tickd nginx "${SERVICES[@]}"; do
            if ! pid_alive "$c"; then
                [ -f "$RUN/stopping" ] && exit 0
                say "$c exited unexpectedly (see $LOG); stopping the stack"
                stop_all
                exit 1
            fi
        done
    done
    ;;
start)
    if [ $# -eq 0 ]; then
        start_all
        print_urls
    else
        [ -f "$VAR/bt.env" ] || write_env
        load_env
        for c in "$@"; do start_component "$c"; done
    fi
    ;;
stop)
    if [ $# -eq 0 ]; then stop_all; else for c in "$@"; do stop_component "$c"; done; fi
    ;;
status) status ;;
env) cat "$VAR/bt.env" ;;
destroy)
    # Stops everything and deletes the state (tests use it on their temp dirs).
    stop_all
    pgreal=$(readlink -f "$VAR/pg" 2>/dev/null || true)
    [ -L "$VAR/pg" ] && [ -n "$pgreal" ] && rm -rf "$(dirname "$pgreal")"
    rm -rf "${VAR:?}"
    ;;
*) die "usage: stack.sh run|start|stop|status|env|destroy [component...]" ;;
esac
