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

struct app;
struct http_req;

int auth_request(struct app *app, struct http_req *req, bool need_admin, struct bt_err *err);

/* Verifies a raw token (no header parsing) into req->who, with the ban check. */
int auth_token(struct app *app, struct http_req *req, const char *token, struct bt_err *err);

/* True when user_id is banned (Redis set, rebuilt from PostgreSQL if lost). */
int auth_is_banned(struct app *app, int64_t user_id, bool *banned, struct bt_err *err);

/* Mirrors a ban/unban already committed in PostgreSQL into Redis. */
int auth_sync_ban(struct app *app, int64_t user_id, bool banned, struct bt_err *err);

#endif
