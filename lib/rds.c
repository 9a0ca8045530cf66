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

redisReply *rds_cmd(struct rds *r, struct arena *a, struct bt_err *err, int argc, const char **argv,
                    const size_t *argvlen)
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

/* Loads s into the server's script cache unless its sha is known. */
static int load_script(struct rds *r, struct rds_script *s, struct bt_err *err)
{
    const char *load[] = {"SCRIPT", "LOAD", s->lua};
    redisReply *rep;

    if (s->sha[0])
        return BT_OK;
    rep = rds_cmd(r, NULL, err, 3, load, NULL);
    if (!rep)
        return BT_ERR;
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        freeReplyObject(rep);
        return err_internal(err, "redis SCRIPT LOAD %s failed", s->name);
    }
    memcpy(s->sha, rep->str, 40);
    s->sha[40] = '\0';
    freeReplyObject(rep);
    return BT_OK;
}

/* EVALSHA's argv for one call; nk holds the key count's digits. */
static int eval_argv(const struct rds_call *c, char nk[16], const char **argv)
{
    int i, argc = 0;

    if (c->nkeys + c->nargs > RDS_MAX_ARGS)
        BT_BUG("rds_eval: too many keys/args for %s", c->s->name);
    snprintf(nk, 16, "%d", c->nkeys);
    argv[argc++] = "EVALSHA";
    argv[argc++] = c->s->sha;
    argv[argc++] = nk;
    for (i = 0; i < c->nkeys; i++)
        argv[argc++] = c->keys[i];
    for (i = 0; i < c->nargs; i++)
        argv[argc++] = c->args[i];
    return argc;
}

static bool is_noscript(const redisReply *rep)
{
    return rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

static redisReply *script_error(struct rds_script *s, redisReply *rep, struct bt_err *err)
{
    err_internal(err, "redis script %s: %.*s", s->name, (int)rep->len, rep->str);
    freeReplyObject(rep);
    return NULL;
}

redisReply *rds_eval(struct rds *r, struct arena *a, struct rds_script *s, int nkeys,
                     const char **keys, int nargs, const char **args, struct bt_err *err)
{
    const struct rds_call c = {s, nkeys, keys, nargs, args, NULL};
    const char *argv[3 + RDS_MAX_ARGS];
    char nk[16];
    redisReply *rep;

    for (int attempt = 0; attempt < 2; attempt++) {
        if (load_script(r, s, err) != BT_OK)
            return NULL;
        rep = cmd_raw(r, err, eval_argv(&c, nk, argv), argv, NULL);
        if (!rep)
            return NULL;
        if (is_noscript(rep)) {
            freeReplyObject(rep);
            s->sha[0] = '\0'; /* server restarted or flushed: load again */
            continue;
        }
        if (rep->type == REDIS_REPLY_ERROR)
            return script_error(s, rep, err);
        return own(a, rep, err);
    }
    err_internal(err, "redis script %s could not be loaded", s->name);
    return NULL;
}

/* Sends every call, then reads every reply; false on an I/O error (the
 * replies read so far are freed). */
static bool pipe_once(struct rds *r, struct rds_call *calls, int n)
{
    const char *argv[3 + RDS_MAX_ARGS];
    char nk[16];
    int i, got = 0;

    if (!r->ctx)
        return false;
    for (i = 0; i < n; i++)
        if (redisAppendCommandArgv(r->ctx, eval_argv(&calls[i], nk, argv), argv, NULL) != REDIS_OK)
            return false;
    for (; got < n; got++) {
        void *rep = NULL;
        if (redisGetReply(r->ctx, &rep) != REDIS_OK || !rep)
            break;
        calls[got].reply = rep;
    }
    if (got == n)
        return true;
    for (i = 0; i < got; i++) {
        freeReplyObject(calls[i].reply);
        calls[i].reply = NULL;
    }
    return false;
}

int rds_eval_pipe(struct rds *r, struct arena *a, struct rds_call *calls, int n, struct bt_err *err)
{
    int i, rc = BT_OK;

    for (i = 0; i < n; i++) {
        calls[i].reply = NULL;
        if (load_script(r, calls[i].s, err) != BT_OK)
            return BT_ERR;
    }
    /* Like cmd_raw: on an I/O error reconnect and send the batch once more. */
    if (!pipe_once(r, calls, n) && (connect_now(r, err) != BT_OK || !pipe_once(r, calls, n))) {
        if (!err_is_set(err))
            err_unavailable(err, 1, "redis pipeline: %s", r->ctx ? r->ctx->errstr : "gone");
        rds_close(r);
        return BT_ERR;
    }
    for (i = 0; i < n; i++) {
        struct rds_call *c = &calls[i];
        redisReply *rep = c->reply;

        c->reply = NULL;
        if (rc != BT_OK) {
            freeReplyObject(rep);
        } else if (is_noscript(rep)) { /* flushed meanwhile: this one alone, loaded again */
            freeReplyObject(rep);
            c->s->sha[0] = '\0';
            c->reply = rds_eval(r, a, c->s, c->nkeys, c->keys, c->nargs, c->args, err);
            rc = c->reply ? BT_OK : BT_ERR;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            script_error(c->s, rep, err);
            rc = BT_ERR;
        } else {
            c->reply = own(a, rep, err);
            rc = c->reply ? BT_OK : BT_ERR;
        }
    }
    return rc;
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
