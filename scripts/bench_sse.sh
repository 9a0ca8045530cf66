#!/usr/bin/env bash
# bench_sse.sh - live fan-out benchmark: N concurrent SSE subscribers on one
# public channel of a dedicated nginx + Nchan (rendered from the project's
# templates, memory store), M published messages; reports publish-to-receipt
# latency (p50/p90/p99/max) and nginx memory (Pss) per subscriber.
#
#   scripts/bench_sse.sh [SUBSCRIBERS=10000] [MESSAGES=20] [INTERVAL_MS=250]
#
# Appends nothing by itself: copy the printed figures to docs/BENCHMARKS.md.
# Needs no running stack; binds two free loopback ports; stops what it
# started.  File descriptors: the client raises its soft limit to the hard
# one, nginx gets worker_connections/worker_rlimit_nofile to match.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
subs=${1:-10000}
msgs=${2:-20}
interval=${3:-250}
work=$(mktemp -d /tmp/bt-bench-sse.XXXXXX)
nginx_pid=""
cleanup() {
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# File descriptors: as many as this process may have (root may raise the
# hard limit where the kernel allows it).
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
fds=$(ulimit -n)
[ "$fds" -ge $((subs + 100)) ] || { echo "fd limit $fds is too low for $subs subscribers" >&2; exit 1; }

cc -O2 -Wall -Wextra -Werror -o "$work/sse_fanout" "$root/scripts/bench/sse_fanout.c"

read -r port pub_port < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
mkdir -p "$work/nginx/tmp" "$work/nginx/cache" "$work/log" "$work/run"
user=""
[ "$(id -u)" -eq 0 ] && user="root root"
BT_VAR=$work BT_RUN_DIR=$work/run BT_LOG_DIR=$work/log BT_LISTEN=127.0.0.1:$port \
    BT_PUB_PORT=$pub_port BT_NGINX_USER=$user BT_NGINX_PID=$work/nginx.pid \
    BT_SUB_CONN_PER_IP=$((subs + 100)) BT_NGINX_WORKER_CONNECTIONS=$((subs + 1000)) \
    BT_NGINX_RLIMIT_NOFILE="$fds" "$root/scripts/render-nginx.sh" "$work/conf"
nginx -e "$work/log/error.log" -p "$work" -c "$work/conf/nginx.conf" -g 'daemon off;' \
    > /dev/null 2>&1 &
nginx_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$pub_port") 2>/dev/null && break
    sleep 0.05
done
workers=$(pgrep -P "$nginx_pid" | wc -l)
echo "bench: $subs subscribers, $msgs messages every ${interval} ms, nginx $(nginx -v 2>&1 | cut -d/ -f2)," \
     "$workers workers, $(nproc) cpus, fd limit $fds"
"$work/sse_fanout" "$port" "$pub_port" 4242 "$subs" "$msgs" "$interval" "$nginx_pid" | tee "$work/result"
grep -q "^delivered" "$work/result" || { tail -5 "$work/log/error.log" >&2; exit 1; }
