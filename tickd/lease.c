/*
 * lease.c - world leases and fencing tokens in Redis (see lease.h).
 *
 * Each operation is one Lua script, so check-and-set is atomic on the
 * server.  Expiry uses Redis' own clock (PX, TIME), never ours.  Nothing
 * here is trusted for safety: the fencing token checked by PostgreSQL is.
 */
#include "lease.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static struct rds_script s_acquire = {
    "lease_acquire",
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  local owner, tok = string.match(v, '^(.*)|(%d+)$')\n"
    "  if owner == ARGV[1] then\n"
    "    redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "    return tonumber(tok)\n"
    "  end\n"
    "  return 0\n"
    "end\n"
    "local t = redis.call('INCR', KEYS[2])\n"
    "redis.call('SET', KEYS[1], ARGV[1] .. '|' .. t, 'PX', ARGV[2])\n"
    "return t\n",
    "",
};

static struct rds_script s_release = {
    "lease_release",
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and string.match(v, '^(.*)|%d+$') == ARGV[1] then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  return 1\n"
    "end\n"
    "return 0\n",
    "",
};

static struct rds_script s_raise = {
    "lease_raise_fence",
    "if (tonumber(redis.call('GET', KEYS[1])) or 0) < tonumber(ARGV[1]) then\n"
    "  redis.call('SET', KEYS[1], ARGV[1])\n"
    "end\n"
    "return 1\n",
    "",
};

static struct rds_script s_heartbeat = {
    "lease_heartbeat",
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
    "return redis.call('ZCARD', KEYS[1])\n",
    "",
};

int lease_acquire(struct rds *r, struct arena *a, int64_t world, const char *me, int ttl_ms,
                  int64_t *token, struct bt_err *err)
{
    char ttl[16];
    const char *keys[2], *args[2] = {me, ttl};
    redisReply *rep;

    snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
    keys[0] = rds_key(r, a, "lease:world:%" PRId64, world);
    keys[1] = rds_key(r, a, "fence:world:%" PRId64, world);
    if (!keys[0] || !keys[1])
        return err_internal(err, "out of memory");
    rep = rds_eval(r, a, &s_acquire, 2, keys, 2, args, err);
    if (!rep)
        return BT_ERR;
    if (rep->type != REDIS_REPLY_INTEGER)
        return err_internal(err, "lease_acquire: unexpected reply");
    *token = rep->integer;
    return BT_OK;
}

static int run1(struct rds *r, struct arena *a, struct rds_script *s, const char *key, int nargs,
                const char **args, struct bt_err *err)
{
    const char *keys[1] = {key};

    if (!key)
        return err_internal(err, "out of memory");
    return rds_eval(r, a, s, 1, keys, nargs, args, err) ? BT_OK : BT_ERR;
}

int lease_release(struct rds *r, struct arena *a, int64_t world, const char *me, struct bt_err *err)
{
    const char *args[1] = {me};

    return run1(r, a, &s_release, rds_key(r, a, "lease:world:%" PRId64, world), 1, args, err);
}

int lease_raise_fence(struct rds *r, struct arena *a, int64_t world, int64_t min,
                      struct bt_err *err)
{
    char m[24];
    const char *args[1] = {m};

    snprintf(m, sizeof(m), "%" PRId64, min);
    return run1(r, a, &s_raise, rds_key(r, a, "fence:world:%" PRId64, world), 1, args, err);
}

int lease_heartbeat(struct rds *r, struct arena *a, const char *me, int ttl_ms, int *live,
                    struct bt_err *err)
{
    char ttl[16];
    const char *keys[1], *args[2] = {me, ttl};
    redisReply *rep;

    snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
    keys[0] = rds_key(r, a, "tickds");
    if (!keys[0])
        return err_internal(err, "out of memory");
    rep = rds_eval(r, a, &s_heartbeat, 1, keys, 2, args, err);
    if (!rep)
        return BT_ERR;
    *live = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0 ? (int)rep->integer : 1;
    return BT_OK;
}

int lease_leave(struct rds *r, struct arena *a, const char *me, struct bt_err *err)
{
    const char *argv[3] = {"ZREM", NULL, me};

    argv[1] = rds_key(r, a, "tickds");
    if (!argv[1])
        return err_internal(err, "out of memory");
    return rds_cmd(r, a, err, 3, argv, NULL) ? BT_OK : BT_ERR;
}
