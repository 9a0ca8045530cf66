/*
 * auth.c - bearer authentication and the ban cache (see auth.h).
 */
#include "auth.h"
#include "app.h"
#include "http.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static struct rds_script ban_script = {
    "auth_is_banned",
    "if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end\n"
    "return redis.call('SISMEMBER', KEYS[1], ARGV[1])\n",
    "",
};

DB_STMT(q_banned_users, "SELECT id FROM users WHERE banned_at IS NOT NULL");

/* Rebuilds the Redis ban set from PostgreSQL (after a Redis restart). */
static int reload_bans(struct app *app, struct bt_err *err)
{
    const char *set = rds_key(&app->rds, &app->arena, "banned");
    const char *marker = rds_key(&app->rds, &app->arena, "banned:loaded");
    PGresult *res = db_exec(&app->db, &app->arena, &q_banned_users, 0, NULL, err);
    int i, n;

    if (!res)
        return BT_ERR;
    n = PQntuples(res);
    for (i = 0; i < n; i++) {
        const char *argv[] = {"SADD", set, PQgetvalue(res, i, 0)};
        if (!rds_cmd(&app->rds, &app->arena, err, 3, argv, NULL))
            return BT_ERR;
    }
    {
        const char *argv[] = {"SET", marker, "1"};
        if (!rds_cmd(&app->rds, &app->arena, err, 3, argv, NULL))
            return BT_ERR;
    }
    log_msg(LOGL_INFO, NULL, "ban cache rebuilt from postgres (%d banned users)", n);
    return BT_OK;
}

void auth_ban_call(struct app *app, struct auth_ban_req *q, int64_t user_id, struct rds_call *call)
{
    q->keys[0] = rds_key(&app->rds, &app->arena, "banned");
    q->keys[1] = rds_key(&app->rds, &app->arena, "banned:loaded");
    snprintf(q->uid, sizeof(q->uid), "%" PRId64, user_id);
    q->args[0] = q->uid;
    *call = (struct rds_call){&ban_script, 2, q->keys, 1, q->args, NULL};
}

/* The script's answer: 1 banned, 0 not, -1 the set is not loaded. */
static int ban_state(const redisReply *rep, struct bt_err *err)
{
    if (rep->type != REDIS_REPLY_INTEGER || rep->integer < -1 || rep->integer > 1)
        return err_internal(err, "ban check: unexpected reply"), -2;
    return (int)rep->integer;
}

int auth_is_banned(struct app *app, int64_t user_id, bool *banned, struct bt_err *err)
{
    struct auth_ban_req q;
    struct rds_call c;
    int attempt, st;

    for (attempt = 0; attempt < 2; attempt++) {
        auth_ban_call(app, &q, user_id, &c);
        if (rds_eval_pipe(&app->rds, &app->arena, &c, 1, err) != BT_OK)
            return BT_ERR;
        if ((st = ban_state(c.reply, err)) == -2)
            return BT_ERR;
        if (st >= 0) {
            *banned = st == 1;
            return BT_OK;
        }
        if (reload_bans(app, err) != BT_OK)
            return BT_ERR;
    }
    return err_internal(err, "ban cache could not be loaded");
}

int auth_ban_reply(struct app *app, int64_t user_id, const redisReply *rep, struct bt_err *err)
{
    int st = ban_state(rep, err);
    bool banned = st == 1;

    if (st == -2)
        return BT_ERR;
    if (st == -1 && auth_is_banned(app, user_id, &banned, err) != BT_OK)
        return BT_ERR;
    if (banned)
        return err_set(err, 403, "forbidden", "this account is banned");
    return BT_OK;
}

int auth_sync_ban(struct app *app, int64_t user_id, bool banned, struct bt_err *err)
{
    char uid[24];
    const char *set = rds_key(&app->rds, &app->arena, "banned");
    const char *argv[3] = {banned ? "SADD" : "SREM", set, uid};

    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    return rds_cmd(&app->rds, &app->arena, err, 3, argv, NULL) ? BT_OK : BT_ERR;
}

int auth_bearer(struct app *app, struct http_req *req, struct bt_err *err)
{
    const char *h = http_header(req, "Authorization");
    struct token_claims c;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7])
        return err_set(err, 401, "unauthorized", "a bearer access token is required");
    if (!app->have_keys)
        return err_internal(err, "no JWT keys loaded in this service");
    if (token_verify(&app->keys, h + 7, (int64_t)time(NULL), &c, err) != BT_OK)
        return BT_ERR;
    req->who.authenticated = true;
    req->who.user_id = c.sub;
    req->who.company_id = c.cid;
    req->who.world_id = c.wid;
    req->who.guest = c.guest;
    snprintf(req->who.role, sizeof(req->who.role), "%s", c.role);
    snprintf(req->who.jti, sizeof(req->who.jti), "%s", c.jti);
    return BT_OK;
}

int auth_company(const struct http_req *req, struct bt_err *err)
{
    if (req->who.company_id > 0 && req->who.world_id > 0)
        return BT_OK;
    return err_set(err, 403, "forbidden", "this account has no company");
}

int auth_request(struct app *app, struct http_req *req, bool need_admin, struct bt_err *err)
{
    bool banned = false;

    if (auth_bearer(app, req, err) != BT_OK)
        return BT_ERR;
    if (auth_is_banned(app, req->who.user_id, &banned, err) != BT_OK)
        return BT_ERR;
    if (banned)
        return err_set(err, 403, "forbidden", "this account is banned");
    if (need_admin && strcmp(req->who.role, "admin") != 0)
        return err_set(err, 403, "forbidden", "this action requires the admin role");
    return BT_OK;
}
