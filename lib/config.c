/*
 * config.c - the table of configuration keys and its loader (see config.h).
 *
 * Adding a key = one struct field + one row here + one README row.  The
 * loader never reads the environment again after start-up.
 */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STR(field, name, def, help)                                                                \
    {                                                                                              \
        name, CONFIG_T_STR, offsetof(struct config, field), sizeof(((struct config *)0)->field),   \
            def, 0, 0, help                                                                        \
    }
#define INT(field, name, def, lo, hi, help)                                                        \
    {                                                                                              \
        name, CONFIG_T_INT, offsetof(struct config, field), sizeof(int), def, lo, hi, help         \
    }
#define LONG(field, name, def, lo, hi, help)                                                       \
    {                                                                                              \
        name, CONFIG_T_LONG, offsetof(struct config, field), sizeof(long), def, lo, hi, help       \
    }

const struct config_key config_keys[] = {
    STR(log_level, "BT_LOG_LEVEL", "info", "debug, info, warn or error"),
    STR(run_dir, "BT_RUN_DIR", "var/run", "directory for sockets, pid files and metrics"),
    STR(pg_dsn, "BT_PG_DSN", "host=127.0.0.1 port=5432 dbname=bitcoin_tycoon user=bt",
        "libpq connection string"),
    INT(pg_timeout_ms, "BT_PG_TIMEOUT_MS", "5000", 100, 600000,
        "statement timeout of every query of the services (ms)"),
    INT(tickd_pg_timeout_ms, "BT_TICKD_PG_TIMEOUT_MS", "60000", 1000, 3600000,
        "statement timeout of tickd's queries (ms): a tick's bulk statements grow with the "
        "world, and one that times out fails the tick and reloads the world"),
    STR(redis_host, "BT_REDIS_HOST", "127.0.0.1", "Redis host (or unix socket path)"),
    INT(redis_port, "BT_REDIS_PORT", "6379", 0, 65535, "Redis port (0 with a socket path)"),
    STR(redis_password, "BT_REDIS_PASSWORD", "", "Redis AUTH password (empty = none)"),
    INT(redis_timeout_ms, "BT_REDIS_TIMEOUT_MS", "500", 10, 60000,
        "Redis connect and command timeout (ms)"),
    STR(redis_prefix, "BT_REDIS_PREFIX", "bt:", "prefix of every Redis key we write"),
    STR(socket, "BT_SOCKET", "", "FastCGI listen socket: a unix path or :port (pools only)"),
    INT(workers, "BT_WORKERS", "4", 1, 256, "FastCGI worker processes per service"),
    STR(socket_mode, "BT_SOCKET_MODE", "0660", "mode of a unix FastCGI socket"),
    LONG(body_max, "BT_BODY_MAX", "65536", 1024, 16777216,
         "largest accepted request body in bytes (413 beyond)"),
    INT(rate_scale, "BT_RATE_SCALE", "1", 1, 1000000,
        "multiplier of every per-caller rate limit (load tests only)"),
    STR(public_url, "BT_PUBLIC_URL", "http://127.0.0.1:8080", "base URL browsers use"),
    INT(tick_ms, "BT_TICK_MS", "5000", 100, 3600000, "default tick interval of new worlds (ms)"),
    STR(nchan_pub_url, "BT_NCHAN_PUB_URL", "http://127.0.0.1:8081",
        "loopback Nchan publisher base URL"),
    INT(snapshot_every, "BT_SNAPSHOT_EVERY", "100", 1, 1000000,
        "store a full world snapshot every N ticks"),
    INT(history_ticks, "BT_HISTORY_TICKS", "17280", 100, 1000000000,
        "ticks of per-tick mining history kept for charts (older rows are pruned)"),
    INT(tick_threads, "BT_TICK_THREADS", "2", 1, 64, "threads computing regions within a tick"),
    STR(tickd_id, "BT_TICKD_ID", "", "tickd identity in world leases (default host:pid)"),
    STR(jwt_secret_file, "BT_JWT_SECRET_FILE", "var/secrets/jwt.key",
        "file holding the current HS256 key (>= 32 bytes)"),
    STR(jwt_kid, "BT_JWT_KID", "k1", "key id (JWT kid header) of the current key"),
    STR(jwt_prev_secret_file, "BT_JWT_PREV_SECRET_FILE", "",
        "file holding the previous key, still accepted (empty = none)"),
    STR(jwt_prev_kid, "BT_JWT_PREV_KID", "", "key id of the previous key"),
    STR(jwt_issuer, "BT_JWT_ISSUER", "bitcoin-tycoon", "JWT iss claim"),
    STR(jwt_audience, "BT_JWT_AUDIENCE", "bitcoin-tycoon-api", "JWT aud claim"),
    INT(access_ttl_s, "BT_ACCESS_TTL", "900", 60, 86400, "access token lifetime (s)"),
    INT(refresh_ttl_s, "BT_REFRESH_TTL", "2592000", 3600, 31536000, "refresh token lifetime (s)"),
    INT(pwhash_profile, "BT_PWHASH_PROFILE", "0", 0, 1,
        "argon2id cost: 0 = libsodium interactive, 1 = moderate"),
    INT(live_ticket_ttl_s, "BT_LIVE_TICKET_TTL", "30", 5, 300,
        "lifetime of an unused single-use live subscribe ticket (s)"),
    INT(live_presence_s, "BT_LIVE_PRESENCE", "4500", 60, 1000000000,
        "a company gets player:update for this long after a live subscribe (s); keep it above "
        "BT_LIVE_SUB_TIMEOUT plus the channel buffer's TTL"),

    STR(refresh_key_file, "BT_REFRESH_KEY_FILE", "var/secrets/refresh.key",
        "file holding the key of the stored refresh-token hashes (>= 32 bytes)"),
    INT(login_max_failures, "BT_LOGIN_MAX_FAILURES", "5", 1, 1000,
        "failed logins per account within the window before 429 (not scaled)"),
    INT(login_failure_window_s, "BT_LOGIN_FAILURE_WINDOW", "60", 1, 86400,
        "window of the failed-login counter (s)"),
};
const size_t config_nkeys = BT_ARRAY_LEN(config_keys);

static const char *env_get(const char *name)
{
    return getenv(name);
}

static int load_key(struct config *c, const struct config_key *k, const char *v, struct bt_err *err)
{
    char *base = (char *)c + k->offset;
    char *end;
    long n;

    if (k->type == CONFIG_T_STR) {
        if (strlen(v) >= k->size)
            return err_set(err, 500, "internal", "%s is too long (max %zu bytes)", k->name,
                           k->size - 1);
        memcpy(base, v, strlen(v) + 1);
        return BT_OK;
    }
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0')
        return err_set(err, 500, "internal", "%s must be an integer, got '%s'", k->name, v);
    if (n < k->min || n > k->max)
        return err_set(err, 500, "internal", "%s must be between %ld and %ld, got %ld", k->name,
                       k->min, k->max, n);
    if (k->type == CONFIG_T_INT)
        *(int *)(void *)base = (int)n;
    else
        *(long *)(void *)base = n;
    return BT_OK;
}

int config_load(struct config *c, config_getenv_fn get, struct bt_err *err)
{
    enum log_level lvl;
    size_t i;

    if (!get)
        get = env_get;
    memset(c, 0, sizeof(*c));
    for (i = 0; i < config_nkeys; i++) {
        const char *v = get(config_keys[i].name);
        if (!v)
            v = config_keys[i].def;
        if (load_key(c, &config_keys[i], v, err) != BT_OK)
            return BT_ERR;
    }
    if (log_level_parse(c->log_level, &lvl) != BT_OK)
        return err_set(err, 500, "internal", "BT_LOG_LEVEL must be debug, info, warn or error");
    if (strspn(c->socket_mode, "01234567") != strlen(c->socket_mode) || !c->socket_mode[0])
        return err_set(err, 500, "internal", "BT_SOCKET_MODE must be octal, e.g. 0660");
    if (c->jwt_prev_secret_file[0] && !c->jwt_prev_kid[0])
        return err_set(err, 500, "internal", "BT_JWT_PREV_KID is required with a previous key");
    if (c->jwt_prev_kid[0] && strcmp(c->jwt_prev_kid, c->jwt_kid) == 0)
        return err_set(err, 500, "internal", "BT_JWT_PREV_KID must differ from BT_JWT_KID");
    return BT_OK;
}

void config_print_table(FILE *out)
{
    size_t i;

    fprintf(out, "| variable | default | meaning |\n|---|---|---|\n");
    for (i = 0; i < config_nkeys; i++)
        fprintf(out, "| `%s` | `%s` | %s |\n", config_keys[i].name, config_keys[i].def,
                config_keys[i].help);
}
