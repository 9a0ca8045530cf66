/*
 * auth.h - authenticating a request's bearer token into req->who.
 *
 * Used by lib/app.c for routes flagged ROUTE_AUTH/ROUTE_ADMIN (and by the
 * realtime authorizer).  A missing or invalid token is a 401 (with a
 * WWW-Authenticate challenge), a banned user a 403, a non-admin on an admin
 * route a 403.
 *
 * Bans are enforced on every request without a database round trip: the
 * set of banned user ids lives in Redis (<prefix>banned), rebuilt from
 * PostgreSQL (users.banned_at) whenever its marker key is missing, e.g.
 * after a Redis restart.  auth_ban/auth_unban update both.
 */
#ifndef BT_AUTH_H
#define BT_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "err.h"
#include "rds.h"

struct app;
struct http_req;

/* Bearer token, ban check and (need_admin) role: the whole check. */
int auth_request(struct app *app, struct http_req *req, bool need_admin, struct bt_err *err);

/* The Authorization header's token verified into req->who, without the
 * ban check (the caller does it, e.g. pipelined with its rate limit). */
int auth_bearer(struct app *app, struct http_req *req, struct bt_err *err);

/* True when user_id is banned (Redis set, rebuilt from PostgreSQL if lost). */
int auth_is_banned(struct app *app, int64_t user_id, bool *banned, struct bt_err *err);

/* The ban check as one call of a caller's Redis pipeline (rds_eval_pipe):
 * auth_ban_call prepares it (q must outlive the pipeline), auth_ban_reply
 * reads its reply: BT_OK, or a 403 when banned (rebuilding a lost set). */
struct auth_ban_req {
    const char *keys[2];
    char uid[24];
    const char *args[1];
};
void auth_ban_call(struct app *app, struct auth_ban_req *q, int64_t user_id, struct rds_call *call);
int auth_ban_reply(struct app *app, int64_t user_id, const redisReply *rep, struct bt_err *err);

/* BT_OK when the authenticated caller owns a company (in a world), else a
 * 403: every game action and company read needs one (admins have none). */
int auth_company(const struct http_req *req, struct bt_err *err);

/* Mirrors a ban/unban already committed in PostgreSQL into Redis. */
int auth_sync_ban(struct app *app, int64_t user_id, bool banned, struct bt_err *err);

#endif
