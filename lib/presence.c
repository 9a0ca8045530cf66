/*
 * presence.c - presence_mark, presence_online (see presence.h).
 */
#include "presence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t presence_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *key_of(struct rds *r, struct arena *a, int64_t world)
{
    return rds_key(r, a, "live:online:%" PRId64, world);
}

int presence_mark(struct rds *r, struct arena *a, int64_t world, int64_t company, int64_t until_ms,
                  struct bt_err *err)
{
    char score[24], member[24];
    const char *argv[5] = {"ZADD", key_of(r, a, world), "GT", score, member};

    if (!argv[1])
        return err_internal(err, "out of memory");
    snprintf(score, sizeof(score), "%" PRId64, until_ms);
    snprintf(member, sizeof(member), "%" PRId64, company);
    /* GT: a later presence wins; a new member is added whatever its score. */
    return rds_cmd(r, a, err, 5, argv, NULL) ? BT_OK : BT_ERR;
}

/* Whether presence is at least window_ms old (see presence_online). */
static int presence_age(struct rds *r, struct arena *a, int64_t now_ms, int64_t window_ms,
                        bool *old, struct bt_err *err)
{
    char now[24];
    const char *since[6] = {"SET", rds_key(r, a, "live:presence:since"), now, "NX", "GET"};
    redisReply *rep;

    if (!since[1])
        return err_internal(err, "out of memory");
    snprintf(now, sizeof(now), "%" PRId64, now_ms);
    if (!(rep = rds_cmd(r, a, err, 5, since, NULL)))
        return BT_ERR;
    /* nil: just set, presence starts now. */
    *old = rep->type == REDIS_REPLY_STRING && now_ms - strtoll(rep->str, NULL, 10) >= window_ms;
    return BT_OK;
}

int presence_online(struct rds *r, struct arena *a, int64_t world, int64_t now_ms,
                    int64_t window_ms, int64_t **ids, int *n, int *cap, bool *known,
                    struct bt_err *err)
{
    char upto[24];
    const char *key = key_of(r, a, world);
    const char *trim[4] = {"ZREMRANGEBYSCORE", key, "-inf", upto};
    const char *all[4] = {"ZRANGE", key, "0", "-1"};
    redisReply *rep;

    *n = 0;
    *known = false;
    if (!key)
        return err_internal(err, "out of memory");
    if (presence_age(r, a, now_ms, window_ms, known, err) != BT_OK)
        return BT_ERR;
    if (!*known)
        return BT_OK; /* still warming up: every company */
    snprintf(upto, sizeof(upto), "(%" PRId64, now_ms);
    if (!rds_cmd(r, a, err, 4, trim, NULL) || !(rep = rds_cmd(r, a, err, 4, all, NULL)))
        return BT_ERR;
    if (rep->type != REDIS_REPLY_ARRAY)
        return err_internal(err, "presence: unexpected reply type %d", rep->type);
    if ((int)rep->elements > *cap) {
        int64_t *g = realloc(*ids, rep->elements * sizeof(**ids));
        if (!g)
            return err_internal(err, "out of memory for %zu present companies", rep->elements);
        *ids = g;
        *cap = (int)rep->elements;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        char *end;
        long long v;
        if (e->type != REDIS_REPLY_STRING)
            continue;
        v = strtoll(e->str, &end, 10);
        if (end != e->str && *end == '\0' && v > 0)
            (*ids)[(*n)++] = v;
    }
    qsort(*ids, (size_t)*n, sizeof(**ids), bt_cmp_i64);
    return BT_OK;
}

bool presence_has(const int64_t *ids, int n, int64_t company)
{
    return n > 0 && bsearch(&company, ids, (size_t)n, sizeof(*ids), bt_cmp_i64) != NULL;
}
