/*
 * rds.h - Redis access through hiredis: one persistent connection per
 * process, timeouts, reconnect-and-retry-once, arena-owned replies.
 *
 * Keys we write are prefixed with the configured namespace (BT_REDIS_PREFIX)
 * by the callers through rds_key().  Lua scripts are run with EVALSHA and
 * loaded on NOSCRIPT.  When Redis cannot be reached the error is a 503 with
 * Retry-After, like PostgreSQL's.
 */
#ifndef BT_RDS_H
#define BT_RDS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "err.h"

struct rds {
    redisContext *ctx;
    char host[256];
    int port;
    char password[256];
    int timeout_ms;
    char prefix[32];
};

struct rds_script {
    const char *name;
    const char *lua;
    char sha[41]; /* filled on first use */
};

int rds_open(struct rds *r, const char *host, int port, const char *password, int timeout_ms,
             const char *prefix, struct bt_err *err);
void rds_close(struct rds *r);
bool rds_ping(struct rds *r);

/* Runs a command given as argv (binary-safe).  The reply is freed with the
 * arena (or owned by the caller with a NULL arena).  Error replies are
 * returned as BT errors (500), connection failures as 503. */
redisReply *rds_cmd(struct rds *r, struct arena *a, struct bt_err *err, int argc, const char **argv,
                    const size_t *argvlen);

/* Runs a Lua script (EVALSHA, loading it on NOSCRIPT) with keys and args. */
redisReply *rds_eval(struct rds *r, struct arena *a, struct rds_script *s, int nkeys,
                     const char **keys, int nargs, const char **args, struct bt_err *err);

/* One script call of a pipeline: keys and args in, reply out (arena-owned). */
#define RDS_MAX_ARGS 16
struct rds_call {
    struct rds_script *s;
    int nkeys;
    const char **keys;
    int nargs;
    const char **args;
    redisReply *reply;
};

/* Runs n script calls in one round trip (pipelined EVALSHA).  BT_OK when
 * every call got a non-error reply; a script the server lost (NOSCRIPT) is
 * loaded and its call rerun alone. */
int rds_eval_pipe(struct rds *r, struct arena *a, struct rds_call *calls, int n,
                  struct bt_err *err);

/* "<prefix><suffix>" in the arena. */
char *rds_key(const struct rds *r, struct arena *a, const char *fmt, ...) BT_PRINTF(3, 4);

#endif
