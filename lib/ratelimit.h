/*
 * ratelimit.h - fixed-window request limits kept in Redis.
 *
 * One atomic Lua call per request: INCR the caller's counter for the
 * current window, set its expiry on first use, return the count and the
 * seconds left.  Used by lib/app.c for every route (per user when
 * authenticated, per client address otherwise) and by handlers for
 * domain-specific limits (failed logins).
 */
#ifndef BT_RATELIMIT_H
#define BT_RATELIMIT_H

#include <stdbool.h>
#include "arena.h"
#include "err.h"
#include "rds.h"

struct ratelimit_result {
    bool allowed;
    long count;      /* hits in the current window, including this one */
    int retry_after; /* seconds until the window resets */
};

/* Counts one hit on key (already prefixed).  limit <= 0 means unlimited. */
int ratelimit_hit(struct rds *r, struct arena *a, const char *key, int limit, int window_s,
                  struct ratelimit_result *res, struct bt_err *err);

/* The same hit as one call of a caller's Redis pipeline (rds_eval_pipe):
 * ratelimit_call prepares it (q holds its arguments and must outlive the
 * pipeline), ratelimit_reply reads its reply.  For limit > 0 only. */
struct ratelimit_req {
    const char *key;
    char win[16];
    const char *args[1];
};
void ratelimit_call(struct ratelimit_req *q, const char *key, int window_s, struct rds_call *call);
int ratelimit_reply(const redisReply *rep, int limit, struct ratelimit_result *res,
                    struct bt_err *err);

/* Reads the current count without adding a hit. */
int ratelimit_peek(struct rds *r, struct arena *a, const char *key, int limit,
                   struct ratelimit_result *res, struct bt_err *err);

/* Fills *err with the 429 problem for res. */
int ratelimit_error(const struct ratelimit_result *res, struct bt_err *err);

#endif
