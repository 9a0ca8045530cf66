# benchlib.sh - shared helpers of the benchmarks (sourced, not run).
#
# bench_stack_start NAME   starts a stack under /tmp/bt-bench-NAME-XXXXXX on a free
#                          port with rate limits lifted; sets BENCH_URL,
#                          BENCH_DIR, BENCH_VAR
# bench_stack_stop         stops and deletes it
# bench_token ROLE [SUB]   prints an access token signed with the stack's key
# bench_wrk LABEL URL ARGS runs wrk -t2 -c64 (BENCH_THREADS, BENCH_CONN) and
#                          prints req/s, p50, p99, errors
BENCH_SECS=${BENCH_SECS:-10}
bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_free_port() {
    /usr/bin/python3 - <<'PY'
import socket
for _ in range(200):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p < 60000 and all(socket.socket().connect_ex(("127.0.0.1", p + i)) != 0 for i in range(4)):
        print(p); break
PY
}

bench_stack_start() {
    # A directory of its own: two benchmarks may run at once.
    BENCH_DIR=$(mktemp -d "/tmp/bt-bench-$1-XXXXXX")
    BENCH_VAR=$BENCH_DIR/var
    export BT_VAR=$BENCH_VAR PORT=${BENCH_PORT:-$(bench_free_port)}
    export BT_RATE_SCALE=${BT_RATE_SCALE:-100000} BT_API_RATE=${BT_API_RATE:-1000000r/s}
    export BT_AUTH_RATE=${BT_AUTH_RATE:-1000000r/s} BT_LOG_LEVEL=${BT_LOG_LEVEL:-warn}
    BENCH_URL=http://127.0.0.1:$PORT
    trap bench_stack_stop EXIT
    "$bench_root/scripts/stack.sh" start >"$BENCH_DIR/stack.log" 2>&1 || {
        tail -20 "$BENCH_DIR/stack.log"; return 1; }
}

bench_stack_stop() {
    [ -n "${BENCH_VAR:-}" ] || return 0
    BT_VAR=$BENCH_VAR "$bench_root/scripts/stack.sh" destroy >/dev/null 2>&1 || true
    rm -rf "$BENCH_DIR"
    BENCH_VAR=""
}

bench_token() {
    /usr/bin/python3 - "$BENCH_VAR/secrets/jwt.key" "$1" "${2:-1}" <<'PY'
import sys, time, uuid, jwt
key = open(sys.argv[1], "rb").read()
now = int(time.time())
print(jwt.encode({"sub": sys.argv[3], "role": sys.argv[2], "iat": now, "exp": now + 3600,
                  "jti": uuid.uuid4().hex, "iss": "bitcoin-tycoon", "aud": "bitcoin-tycoon-api"},
                 key, algorithm="HS256", headers={"kid": "k1"}))
PY
}

bench_wrk() {
    local label=$1 url=$2; shift 2
    local out
    out=$(wrk -t"${BENCH_THREADS:-2}" -c"${BENCH_CONN:-64}" -d"${BENCH_SECS}s" --latency "$@" "$url")
    printf '%-28s %s req/s  p50 %s  p99 %s  %s\n' "$label" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
}
