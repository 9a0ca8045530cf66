#!/usr/bin/env bash
# render-nginx.sh - renders nginx/*.in templates.
#
# Usage: render-nginx.sh OUTDIR            the local run (stack.sh): nginx.conf,
#                                           bitcoin-tycoon.conf, bt-fastcgi.conf
#        render-nginx.sh --install OUTDIR  an installation (scripts/install.sh):
#                                           bitcoin-tycoon.conf and bt-fastcgi.conf
#                                           only; Debian's nginx.conf includes them
#                                           (and loads Nchan from modules-enabled)
# with the variables below in the environment:
#   BT_VAR BT_RUN_DIR BT_LOG_DIR  state, sockets and logs
#   BT_CONF_DIR                   where nginx will read the files (default OUTDIR;
#                                 differs when OUTDIR is under a DESTDIR)
#   BT_WWW_ADMIN BT_DOCS          the admin panel and docs directories (default: the checkout)
#   BT_REAL_IP_FROM               address of a TLS proxy in front (e.g. 127.0.0.1):
#                                 trust its X-Forwarded-For for the client address
#   BT_LISTEN                     public listen address (127.0.0.1:8080)
#   BT_PUB_PORT                   loopback publisher port
#   BT_NGINX_USER                 "user" directive value ("" = none)
#   BT_NCHAN_REDIS                redis://host:port to share channels between nodes ("" = off)
#   BT_AUTH_RATE BT_AUTH_BURST BT_API_RATE BT_SUB_CONN_PER_IP
#   BT_NCHAN_BUFFER BT_NCHAN_BUFFER_TTL  world channels' message buffer: length, TTL
#   BT_NCHAN_COMPANY_BUFFER BT_NCHAN_COMPANY_BUFFER_TTL  the same for company channels
#   BT_NCHAN_SHM                  Nchan's shared memory (channels, buffered messages)
#   BT_LIVE_CONN_PER_USER         live subscriber connections per user (per node)
#   BT_LIVE_MSG_MAX               largest publishable message (e.g. 64k)
#   BT_LIVE_SUB_TIMEOUT           longest a subscriber connection lasts (s, > 0; with the
#                                 buffer TTL at most BT_LIVE_PRESENCE, checked here)
#   BT_NGINX_PID                  master pid file (default $BT_RUN_DIR/nginx-master.pid)
#   BT_NGINX_WORKER_CONNECTIONS BT_NGINX_RLIMIT_NOFILE  (benchmarks raise them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# tickd publishes a company's messages for BT_LIVE_PRESENCE seconds after a
# live subscribe (lib/presence.h): a connection must end (and a reconnect
# renew the presence) before that, buffer included.
secs() {
    case $1 in
        *h) echo $((${1%h} * 3600)) ;; *m) echo $((${1%m} * 60)) ;;
        *s) echo "${1%s}" ;; *) echo "$1" ;;
    esac
}
sub_timeout=${BT_LIVE_SUB_TIMEOUT:-3600}
buffer_ttl=$(secs "${BT_NCHAN_BUFFER_TTL:-15m}")
company_ttl=$(secs "${BT_NCHAN_COMPANY_BUFFER_TTL:-2m}")
[ "$company_ttl" -le "$buffer_ttl" ] || buffer_ttl=$company_ttl
presence=${BT_LIVE_PRESENCE:-4500}
if [ "$sub_timeout" -le 0 ] || [ $((sub_timeout + buffer_ttl)) -gt "$presence" ]; then
    echo "render-nginx: BT_LIVE_SUB_TIMEOUT ($sub_timeout s) must be > 0 and, plus the" \
         "buffer TTL ($buffer_ttl s), at most BT_LIVE_PRESENCE ($presence s)" >&2
    exit 1
fi
install=0
if [ "${1:-}" = --install ]; then install=1; shift; fi
out=$1
mkdir -p "$out"
user_line=""
[ -n "${BT_NGINX_USER:-}" ] && user_line="user ${BT_NGINX_USER};"
redis_up=""; redis_pass=""
if [ -n "${BT_NCHAN_REDIS:-}" ]; then
    redis_up="upstream bt_nchan_redis { nchan_redis_server ${BT_NCHAN_REDIS}; }"
    redis_pass="nchan_redis_pass bt_nchan_redis;"
fi
real_ip=""
if [ -n "${BT_REAL_IP_FROM:-}" ]; then
    real_ip="set_real_ip_from ${BT_REAL_IP_FROM}; real_ip_header X-Forwarded-For;"
fi
render() {
    sed -e "s|@@USER@@|${user_line}|g" \
        -e "s|@@VAR@@|${BT_VAR}|g" \
        -e "s|@@RUN@@|${BT_RUN_DIR}|g" \
        -e "s|@@LOG@@|${BT_LOG_DIR}|g" \
        -e "s|@@CONF@@|${BT_CONF_DIR:-$out}|g" \
        -e "s|@@LISTEN@@|${BT_LISTEN}|g" \
        -e "s|@@PUB_PORT@@|${BT_PUB_PORT}|g" \
        -e "s|@@WWW_ADMIN@@|${BT_WWW_ADMIN:-$root/www-admin}|g" \
        -e "s|@@DOCS@@|${BT_DOCS:-$root/docs}|g" \
        -e "s|@@AUTH_RATE@@|${BT_AUTH_RATE:-10r/s}|g" \
        -e "s|@@AUTH_BURST@@|${BT_AUTH_BURST:-20}|g" \
        -e "s|@@API_RATE@@|${BT_API_RATE:-500r/s}|g" \
        -e "s|@@SUB_CONN_PER_IP@@|${BT_SUB_CONN_PER_IP:-50}|g" \
        -e "s|@@BUFFER_LENGTH@@|${BT_NCHAN_BUFFER:-200}|g" \
        -e "s|@@BUFFER_TTL@@|${BT_NCHAN_BUFFER_TTL:-15m}|g" \
        -e "s|@@COMPANY_BUFFER_LENGTH@@|${BT_NCHAN_COMPANY_BUFFER:-24}|g" \
        -e "s|@@COMPANY_BUFFER_TTL@@|${BT_NCHAN_COMPANY_BUFFER_TTL:-2m}|g" \
        -e "s|@@NCHAN_SHM@@|${BT_NCHAN_SHM:-256M}|g" \
        -e "s|@@LIVE_CONN_PER_USER@@|${BT_LIVE_CONN_PER_USER:-8}|g" \
        -e "s|@@LIVE_MSG_MAX@@|${BT_LIVE_MSG_MAX:-64k}|g" \
        -e "s|@@LIVE_SUB_TIMEOUT@@|${BT_LIVE_SUB_TIMEOUT:-3600}|g" \
        -e "s|@@NGINX_PID@@|${BT_NGINX_PID:-${BT_RUN_DIR}/nginx-master.pid}|g" \
        -e "s|@@NGINX_WORKER_CONNECTIONS@@|${BT_NGINX_WORKER_CONNECTIONS:-16384}|g" \
        -e "s|@@NGINX_RLIMIT_NOFILE@@|${BT_NGINX_RLIMIT_NOFILE:-65536}|g" \
        -e "s|@@NCHAN_REDIS_UPSTREAM@@|${redis_up}|g" \
        -e "s|@@NCHAN_REDIS_PASS@@|${redis_pass}|g" \
        -e "s|@@REAL_IP@@|${real_ip}|g" \
        "$1"
}
[ $install = 1 ] || render "$root/nginx/nginx.conf.in" > "$out/nginx.conf"
render "$root/nginx/bitcoin-tycoon.conf.in" > "$out/bitcoin-tycoon.conf"
cp "$root/nginx/bt-fastcgi.conf" "$out/bt-fastcgi.conf"
