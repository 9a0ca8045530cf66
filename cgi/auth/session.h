/*
 * session.h - what the auth service's handlers share: the per-worker state
 * (refresh-token key, dummy password hash) and issuing a session (a new
 * access token plus a stored refresh token).
 */
#ifndef BT_AUTH_SESSION_H
#define BT_AUTH_SESSION_H

#include "account.h"
#include "app.h"
#include "audit.h"
#include "password.h"
#include "refresh.h"

struct session_state {
    struct refresh_key rkey;
    char dummy_hash[PASSWORD_HASH_MAX]; /* verified against for unknown emails */
};

#define SESSION_STATE(app) ((struct session_state *)(app)->state)

/* Worker set-up: loads the refresh key and computes the dummy hash. */
int session_init(struct app *app, struct bt_err *err);
void session_fini(struct app *app);

/* Finishes the transaction the caller opened for user_id: loads the
 * account, issues a session (in `family`, or a new one), commits and sets
 * the answer with `status`.  Rolls the transaction back on failure. */
int session_answer(struct app *app, struct http_req *req, int64_t user_id, const char *family,
                   int status, struct http_resp *resp, struct bt_err *err);

/* The same in a new family, after writing the audit entry ev for user_id
 * (login, register, guest, upgrade). */
int session_finish(struct app *app, struct http_req *req, int64_t user_id, enum audit_event ev,
                   int status, struct http_resp *resp, struct bt_err *err);

/* Normalises *email in place (arena copy) and records a field error
 * "email"/"format" when it is not an address.  No-op when *email is NULL
 * (the validator already reported it). */
void session_check_email(struct arena *a, const char **email, struct bt_err *err);

/* Inserts the company of a new user into the default world.  A taken name
 * is a 409 naming company_name.  Runs inside the caller's transaction. */
int session_create_company(struct app *app, struct http_req *req, int64_t user_id, const char *name,
                           const char *region, struct bt_err *err);

/* A 409 naming one field (e.g. "email"/"taken"). */
int session_conflict(struct bt_err *err, const char *field, const char *message);

/* Handlers (register.c, login.c). */
int post_register(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);
int post_guest(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int post_upgrade(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int post_login(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int post_refresh(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int post_logout(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

#endif
