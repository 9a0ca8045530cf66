#!/usr/bin/env bash
# install.sh - installs a built Bitcoin Tycoon onto a Debian 12 server.
#
#   make install [DESTDIR=/tmp/stage] [PREFIX=/usr/local]
#   (= BUILD=build DESTDIR=... PREFIX=... scripts/install.sh)
#
# What goes where (PREFIX=/usr/local):
#   $PREFIX/lib/bitcoin-tycoon/bin/      tickd, bt-auth ... bt-admin
#   $PREFIX/lib/bitcoin-tycoon/          migrate.sh, gen-env-example.sh
#   $PREFIX/share/bitcoin-tycoon/        migrations/, seed.sql, www-admin/
#   $PREFIX/share/doc/bitcoin-tycoon/    DEPLOY.md, ARCHITECTURE.md, openapi.yaml, bt.env.example (/docs/)
#   /etc/systemd/system/                 bt-tickd, bt-fcgi@, bt-migrate, bitcoin-tycoon.target
#   /etc/sysusers.d/bitcoin-tycoon.conf  the system user and www-data's membership
#   /etc/nginx/bitcoin-tycoon/           rendered nginx config; conf.d/bitcoin-tycoon.conf includes it
#   /etc/bitcoin-tycoon/bt.env           from docs/bt.env.example; kept if it exists
#   /etc/bitcoin-tycoon/jwt.key          a fresh HS256 key; kept if it exists
#
# The committed units name PREFIX=/usr/local; another PREFIX is substituted
# into the installed copies.  With DESTDIR (a staging directory, a package
# build, the tests) nothing outside DESTDIR is touched: no user is created,
# no ownership changed, systemd and nginx are not reloaded.  Without DESTDIR
# (as root) the user is created with systemd-sysusers and the secrets get
# their owners.  Existing configuration and secrets are never overwritten,
# so re-running the script is how an upgrade installs new binaries.
#
# Install settings (environment): BT_LISTEN (127.0.0.1:8080: a TLS proxy in
# front, see docs/DEPLOY.md), BT_PUB_PORT (8081), BT_PUBLIC_URL
# (https://$(hostname -f)), BT_REAL_IP_FROM (127.0.0.1, the TLS proxy).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BIN=$BUILD/bin ;; *) BIN=$ROOT/$BUILD/bin ;; esac
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
UNIT_PREFIX=/usr/local # what the committed units name
SERVICES=(auth player site market research governance event admin)
USER_NAME=bitcoin-tycoon

LIBDIR=$PREFIX/lib/bitcoin-tycoon
SHAREDIR=$PREFIX/share/bitcoin-tycoon
DOCDIR=$PREFIX/share/doc/bitcoin-tycoon
UNITDIR=${UNITDIR:-/etc/systemd/system}
ETCDIR=/etc/bitcoin-tycoon
NGINX_DIR=/etc/nginx/bitcoin-tycoon
RUN_DIR=/run/bitcoin-tycoon
CACHE_DIR=/var/cache/bitcoin-tycoon

LISTEN=${BT_LISTEN:-127.0.0.1:8080}
PUB_PORT=${BT_PUB_PORT:-8081}
PUBLIC_URL=${BT_PUBLIC_URL:-https://$(hostname -f 2>/dev/null || hostname)}
REAL_IP_FROM=${BT_REAL_IP_FROM-127.0.0.1}

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

case $PREFIX in /*) ;; *) die "PREFIX must be absolute ($PREFIX)" ;; esac
if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
    die "installing onto this system needs root (or set DESTDIR=/some/stage)"
fi
for b in tickd "${SERVICES[@]/#/bt-}"; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing (run: make)"
done

d() { printf '%s%s' "$DESTDIR" "$1"; } # a path under DESTDIR

# ---- programs, migrations, panel, docs ----
install -d -m 0755 "$(d "$LIBDIR/bin")" "$(d "$SHAREDIR/migrations")" "$(d "$DOCDIR")"
for b in tickd "${SERVICES[@]/#/bt-}"; do
    install -m 0755 "$BIN/$b" "$(d "$LIBDIR/bin/$b")"
done
install -m 0755 "$ROOT/scripts/migrate.sh" "$ROOT/scripts/gen-env-example.sh" "$(d "$LIBDIR")/"
install -m 0644 "$ROOT"/migrations/[0-9][0-9][0-9][0-9]_*.sql "$(d "$SHAREDIR/migrations")/"
install -m 0644 "$ROOT/scripts/seed.sql" "$(d "$SHAREDIR")/"
rm -rf "$(d "$SHAREDIR/www-admin")"
(cd "$ROOT/www-admin" && find . -type f) | while read -r f; do
    install -D -m 0644 "$ROOT/www-admin/$f" "$(d "$SHAREDIR/www-admin/${f#./}")"
done
for f in DEPLOY.md ARCHITECTURE.md openapi.yaml bt.env.example; do
    [ -f "$ROOT/docs/$f" ] && install -m 0644 "$ROOT/docs/$f" "$(d "$DOCDIR")/"
done
say "programs in $LIBDIR, data in $SHAREDIR"

# ---- systemd units and the system user ----
install -d -m 0755 "$(d "$UNITDIR")" "$(d /etc/sysusers.d)"
for u in "$ROOT"/systemd/*.service "$ROOT"/systemd/*.target; do
    sed "s|$UNIT_PREFIX/|$PREFIX/|g" "$u" > "$(d "$UNITDIR")/$(basename "$u")"
    chmod 0644 "$(d "$UNITDIR")/$(basename "$u")"
done
cat > "$(d /etc/sysusers.d/bitcoin-tycoon.conf)" <<EOF
# The game's processes run as $USER_NAME; nginx (www-data) joins its group
# to reach the FastCGI sockets in $RUN_DIR (mode 0660).
u $USER_NAME - "Bitcoin Tycoon game server" /nonexistent /usr/sbin/nologin
m www-data $USER_NAME
EOF
say "units in $UNITDIR"

# ---- nginx ----
install -d -m 0755 "$(d "$NGINX_DIR")" "$(d /etc/nginx/conf.d)" "$(d "$CACHE_DIR/nginx")"
BT_VAR=$CACHE_DIR BT_RUN_DIR=$RUN_DIR BT_LOG_DIR=/var/log/nginx BT_LISTEN=$LISTEN \
    BT_PUB_PORT=$PUB_PORT BT_CONF_DIR=$NGINX_DIR BT_WWW_ADMIN=$SHAREDIR/www-admin \
    BT_DOCS=$DOCDIR BT_REAL_IP_FROM=$REAL_IP_FROM \
    "$ROOT/scripts/render-nginx.sh" --install "$(d "$NGINX_DIR")"
cat > "$(d /etc/nginx/conf.d/bitcoin-tycoon.conf)" <<EOF
# Bitcoin Tycoon (rendered by scripts/install.sh; edit the templates, not this).
include $NGINX_DIR/bitcoin-tycoon.conf;
EOF
say "nginx config in $NGINX_DIR (listen $LISTEN, publisher 127.0.0.1:$PUB_PORT)"

# ---- configuration and secrets (kept when present) ----
install -d -m 0750 "$(d "$ETCDIR")"
env_file=$(d "$ETCDIR/bt.env")
if [ -e "$env_file" ]; then
    say "keeping $ETCDIR/bt.env"
else
    # The keys an installation sets; every other key keeps its default.
    sets=(
        "BT_RUN_DIR=$RUN_DIR"
        "BT_PG_DSN=\"host=127.0.0.1 port=5432 dbname=bitcoin_tycoon user=bt\""
        "BT_JWT_SECRET_FILE=$ETCDIR/jwt.key"
        "BT_PUBLIC_URL=$PUBLIC_URL"
        "BT_NCHAN_PUB_URL=http://127.0.0.1:$PUB_PORT"
        "PGPASSFILE=$ETCDIR/pgpass"
    )
    cp "$ROOT/docs/bt.env.example" "$env_file.tmp"
    for kv in "${sets[@]}"; do
        k=${kv%%=*}
        grep -q "^#$k=" "$env_file.tmp" || die "docs/bt.env.example lacks $k (regenerate it)"
        awk -v k="$k" -v kv="$kv" 'index($0, "#" k "=") == 1 { print kv; next } { print }' \
            "$env_file.tmp" > "$env_file.tmp2"
        mv "$env_file.tmp2" "$env_file.tmp"
    done
    chmod 0640 "$env_file.tmp"
    mv "$env_file.tmp" "$env_file"
    say "wrote $ETCDIR/bt.env"
fi
key_file=$(d "$ETCDIR/jwt.key")
if [ ! -s "$key_file" ]; then
    (umask 077; head -c 96 /dev/urandom | base64 | tr -d '\n/+=' | head -c 64 > "$key_file")
    chmod 0640 "$key_file"
    say "generated $ETCDIR/jwt.key (kid k1)"
fi

if [ -n "$DESTDIR" ]; then
    say "staged into $DESTDIR (no users, owners or reloads)"
    exit 0
fi

# ---- this machine only ----
systemd-sysusers /etc/sysusers.d/bitcoin-tycoon.conf
chown root:"$USER_NAME" "$ETCDIR" "$ETCDIR/bt.env" "$ETCDIR/jwt.key"
[ -e "$ETCDIR/pgpass" ] && chown "$USER_NAME": "$ETCDIR/pgpass" && chmod 0600 "$ETCDIR/pgpass"
chown www-data: "$CACHE_DIR/nginx"
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    say "next: see $DOCDIR/DEPLOY.md (database, TLS), then: systemctl enable --now bitcoin-tycoon.target"
else
    say "systemd is not running here; units installed but not loaded"
fi
