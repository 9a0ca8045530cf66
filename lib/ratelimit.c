/*
 * ratelimit.c - see ratelimit.h.  The script repairs a counter that somehow
 * lost its expiry, so a key can never block a caller forever.
 */
#include "ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct rds_script hit_script = {
    "ratelimit_hit",
    "local n = redis.call('INCR', KEYS[1])\n"
    "local ttl = redis.call('TTL', KEYS[1])\n"
    "if n == 1 or ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) "
    "end\n"
    "return {n, ttl}\n",
    "",
};

static struct rds_script peek_script = {
    "ratelimit_peek",
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local ttl = redis.call('TTL', KEYS[1])\n"
    "return {n, ttl}\n",
    "",
};

static int parse(const redisReply *rep, int limit, struct ratelimit_result *res, struct bt_err *err)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER)
        return err_internal(err, "ratelimit: unexpected reply");
    res->count = (long)rep->element[0]->integer;
    res->retry_after = rep->element[1]->integer > 0 ? (int)rep->element[1]->integer : 1;
    res->allowed = limit <= 0 || res->count <= limit;
    return BT_OK;
}

void ratelimit_call(struct ratelimit_req *q, const char *key, int window_s, struct rds_call *call)
{
    q->key = key;
    snprintf(q->win, sizeof(q->win), "%d", window_s > 0 ? window_s : 60);
    q->args[0] = q->win;
    *call = (struct rds_call){&hit_script, 1, &q->key, 1, q->args, NULL};
}

int ratelimit_reply(const redisReply *rep, int limit, struct ratelimit_result *res,
                    struct bt_err *err)
{
    return parse(rep, limit, res, err);
}

int ratelimit_hit(struct rds *r, struct arena *a, const char *key, int limit, int window_s,
                  struct ratelimit_result *res, struct bt_err *err)
{
    struct ratelimit_req q;
    struct rds_call c;

    res->allowed = true;
    res->count = 0;
    res->retry_after = 0;
    if (limit <= 0)
        return BT_OK;
    ratelimit_call(&q, key, window_s, &c);
    if (rds_eval_pipe(r, a, &c, 1, err) != BT_OK)
        return BT_ERR;
    return parse(c.reply, limit, res, err);
}

int ratelimit_peek(struct rds *r, struct arena *a, const char *key, int limit,
                   struct ratelimit_result *res, struct bt_err *err)
{
    redisReply *rep = rds_eval(r, a, &peek_script, 1, &key, 0, NULL, err);

    if (!rep)
        return BT_ERR;
    if (parse(rep, limit, res, err) != BT_OK)
        return BT_ERR;
    /* peek does not count a hit: "allowed" means one more would still pass */
    res->allowed = limit <= 0 || res->count < limit;
    return BT_OK;
}

int ratelimit_error(const struct ratelimit_result *res, struct bt_err *err)
{
    err_set(err, 429, "rate-limited", "too many requests; retry in %d s", res->retry_after);
    err->retry_after = res->retry_after;
    return BT_ERR;
}
