/*
 * rds.c - hiredis wrapper (see rds.h).
 *
 * hiredis marks a context unusable after an I/O error; we then drop it and
 * reconnect on the next call, retrying the command once.  Commands are sent
 * with redisCommandArgv so values are never interpreted as format strings.
 */
#include "rds.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int connect_now(struct rds *r, struct bt_err *err)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    redisReply *rep;

    if (r->ctx)
        redisFree(r->ctx);
    if (r->host[0] == '/')
        r->ctx = redisConnectUnixWithTimeout(r->host, tv);
    else
        r->ctx = redisConnectWithTimeout(r->host, r->port, tv);
    if (!r->ctx || r->ctx->err) {
        err_unavailable(err, 1, "redis connect %s:%d: %s", r->host, r->port,
                        r->ctx ? r->ctx->errstr : "out of memory");
        if (r->ctx)
            redisFree(r->ctx);
        r->ctx = NULL;
        return BT_ERR;
    }
    redisSetTimeout(r->ctx, tv);
    if (r->password[0]) {
        rep = redisCommand(r->ctx, "AUTH %s", r->password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            err_unavailable(err, 1, "redis AUTH failed");
            if (rep)
                freeReplyObject(rep);
            redisFree(r->ctx);
            r->ctx = NULL;
            return BT_ERR;
        }
        freeReplyObject(rep);
    }
    return BT_OK;
}

int rds_open(struct rds *r, const char *host, int port, const char *password, int timeout_ms,
             const char *prefix, struct bt_err *err)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->host, sizeof(r->host), "%s", host);
    r->port = port;
    snprintf(r->password, sizeof(r->password), "%s", password ? password : "");
    r->timeout_ms = timeout_ms;
    snprintf(r->prefix, sizeof(r->prefix), "%s", prefix ? prefix : "");
    return connect_now(r, err);
}

void rds_close(struct rds *r)
{
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
}

static redisReply *send_argv(struct rds *r, int argc, const char **argv, const size_t *argvlen)
{
    if (!r->ctx)
        return NULL;
    return redisCommandArgv(r->ctx, argc, argv, argvlen);
}

static void free_reply(void *p)
{
    freeReplyObject(p);
}

/* Sends a command, reconnecting and retrying once on an I/O error.  Returns
 * the reply of any type (including error replies), NULL when unreachable. */
static redisReply *cmd_raw(struct rds *r, struct bt_err *err, int argc, const char **argv,
                           const size_t *argvlen)
{
    redisReply *rep;

    if (!r->ctx && connect_now(r, err) != BT_OK)
        return NULL;
    rep = send_argv(r, argc, argv, argvlen);
    if (rep)
        return rep;
    if (connect_now(r, err) != BT_OK)
        return NULL;
    rep = send_argv(r, argc, argv, argvlen);
    if (!rep) {
        err_unavailable(err, 1, "redis %s: %s", argv[0], r->ctx ? r->ctx->errstr : "gone");
        rds_close(r);
    }
    return rep;
}

static redisReply *own(struct arena *a, redisReply *rep, struct bt_err *err)
{
    if (a && arena_defer(a, free_reply, rep) != BT_OK) {
        err_internal(err, "out of memory registering a redis reply");
        return NULL;
    }
    return rep;
}

redisReply *rds_cmd(struct rds *r, struct arena *a, struct bt_err *err, int argc,
                    const char **argv, const size_t *argvlen)
{
    redisReply *rep = cmd_raw(r, err, argc, argv, argvlen);

    if (!rep)
        return NULL;
    if (rep->type == REDIS_REPLY_ERROR) {
        err_internal(err, "redis %s: %.*s", argv[0], (int)rep->len, rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return own(a, rep, err);
}

redisReply *rds_eval(struct rds *r, struct arena *a, struct rds_script *s, int nkeys,
                     const char **keys, int nargs, const char **args, struct bt_err *err)
{
    const char *argv[3 + 16];
    char nk[16];
    redisReply *rep;
    int i, argc = 0;

    if (nkeys + nargs > 16)
        BT_BUG("rds_eval: too many keys/args for %s", s->name);
    snprintf(nk, sizeof(nk), "%d", nkeys);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->sha[0]) {
            const char *load[] = {"SCRIPT", "LOAD", s->lua};
            rep = rds_cmd(r, NULL, err, 3, load, NULL);
            if (!rep)
                return NULL;
            if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
                freeReplyObject(rep);
                err_internal(err, "redis SCRIPT LOAD %s failed", s->name);
                return NULL;
            }
            memcpy(s->sha, rep->str, 40);
            s->sha[40] = '\0';
            freeReplyObject(rep);
        }
        argc = 0;
        argv[argc++] = "EVALSHA";
        argv[argc++] = s->sha;
        argv[argc++] = nk;
        for (i = 0; i < nkeys; i++)
            argv[argc++] = keys[i];
        for (i = 0; i < nargs; i++)
            argv[argc++] = args[i];
        rep = cmd_raw(r, err, argc, argv, NULL);
        if (!rep)
            return NULL;
        if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject(rep);
            s->sha[0] = '\0'; /* server restarted or flushed: load again */
            continue;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            err_internal(err, "redis script %s: %.*s", s->name, (int)rep->len, rep->str);
            freeReplyObject(rep);
            return NULL;
        }
        return own(a, rep, err);
    }
    err_internal(err, "redis script %s could not be loaded", s->name);
    return NULL;
}

bool rds_ping(struct rds *r)
{
    const char *argv[] = {"PING"};
    struct bt_err err;
    redisReply *rep;
    bool ok;

    err_clear(&err);
    rep = rds_cmd(r, NULL, &err, 1, argv, NULL);
    ok = rep && rep->type == REDIS_REPLY_STATUS && strcasecmp(rep->str, "PONG") == 0;
    if (rep)
        freeReplyObject(rep);
    return ok;
}

char *rds_key(const struct rds *r, struct arena *a, const char *fmt, ...)
{
    char tail[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tail, sizeof(tail), fmt, ap);
    va_end(ap);
    return arena_printf(a, "%s%s", r->prefix, tail);
}
