/*
 * users.h - admin actions on accounts, shared by the admin API (users.c)
 * and the bt-admin command line (cli.c).
 */
#ifndef BT_ADMIN_USERS_H
#define BT_ADMIN_USERS_H

#include <stdbool.h>
#include <stdint.h>
#include "app.h"
#include "audit.h"

/* Bans or unbans user_id: users.banned_at/ban_reason, revocation of every
 * refresh token (ban), an audit entry (ctx gives actor, ip, user agent and
 * request id; its event is set here), all in one transaction; then the
 * Redis ban set.  404 for an unknown user. */
int users_set_ban(struct app *app, struct arena *a, struct audit_entry *ctx, int64_t user_id,
                  bool ban, const char *reason, struct bt_err *err);

/* Admin API handlers (routes in main.c). */
int users_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int users_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int users_ban(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int users_unban(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int users_audit(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

/* `bt-admin create-admin|ban|unban ...` (cli.c). */
int admin_cli(struct app *app, int argc, char **argv);

#endif
