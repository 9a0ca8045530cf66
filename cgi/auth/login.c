/*
 * login.c - POST /auth/login, /auth/refresh and /auth/logout.
 *
 * Login without account enumeration: an unknown email and a wrong password
 * take the same path - one argon2id verification (against a dummy hash
 * when there is no such user), one failure count, one audit row - and give
 * the same 401 body.  Failures are counted per normalised email (hashed
 * before it becomes a Redis key), not per user id, so the backoff (429
 * after BT_LOGIN_MAX_FAILURES within BT_LOGIN_FAILURE_WINDOW) also behaves
 * the same for emails that do not exist.
 *
 * Refresh tokens rotate on every use.  A token that was already used
 * revokes its whole family (someone holds a copy: either the thief or the
 * victim is replaying it) and writes a refresh_reuse audit entry.  A
 * banned user's refresh is refused with 403.
 */
#include "audit.h"
#include "log.h"
#include "ratelimit.h"
#include "session.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

DB_STMT(q_rehash, "UPDATE users SET password_hash = $2 WHERE id = $1");
DB_STMT(q_refresh_find,
        "SELECT t.id, t.user_id, t.family, t.used_at IS NOT NULL, t.revoked_at IS NOT NULL, "
        "t.expires_at <= now(), u.banned_at IS NOT NULL "
        "FROM refresh_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_hash = decode($1, 'hex') FOR UPDATE OF t");
DB_STMT(q_refresh_use, "UPDATE refresh_tokens SET used_at = now() WHERE id = $1");
DB_STMT(q_family_revoke, "UPDATE refresh_tokens SET revoked_at = now() "
                         "WHERE family = $1 AND revoked_at IS NULL");

static const char bad_credentials[] = "invalid email or password";

/* The Redis key counting failed logins of one email (hashed: no emails in Redis). */
static const char *failure_key(struct app *app, struct arena *a, const char *email)
{
    unsigned char d[16];
    char hex[2 * sizeof(d) + 1];

    crypto_generichash(d, sizeof(d), (const unsigned char *)email, strlen(email), NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
    return rds_key(&app->rds, a, "login:fail:%s", hex);
}

struct login_in {
    const char *email;
    const char *password;
};

static const struct valid_rule login_rules[] = {
    VSTR(struct login_in, email, VF_REQUIRED | VF_BYTES, 1, 254),
    VSTR(struct login_in, password, VF_REQUIRED | VF_BYTES, 1, PASSWORD_MAX),
    VALID_END,
};

static int login_failed(struct app *app, struct http_req *req, const char *fkey, int64_t user_id,
                        struct bt_err *err)
{
    struct ratelimit_result rl;
    struct audit_entry ae;

    if (ratelimit_hit(&app->rds, req->arena, fkey, app->cfg.login_max_failures,
                      app->cfg.login_failure_window_s, &rl, err) != BT_OK)
        return BT_ERR;
    audit_from_request(&ae, req, AUDIT_LOGIN_FAILURE, user_id);
    if (audit_write(&app->db, req->arena, &ae, err) != BT_OK)
        return BT_ERR;
    return err_set(err, 401, "unauthorized", "%s", bad_credentials);
}

int post_login(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct session_state *st = SESSION_STATE(app);
    struct login_in in = {NULL, NULL};
    struct ratelimit_result rl;
    struct account acc;
    const char *fkey;
    bool found = false, ok;

    if (valid_object(req->json, login_rules, &in, 0, err) != BT_OK && err->nfields == 0)
        return BT_ERR;
    session_check_email(req->arena, &in.email, err);
    if (err_check_fields(err) != BT_OK)
        return BT_ERR;
    fkey = failure_key(app, req->arena, in.email);
    if (!fkey)
        return err_internal(err, "out of memory");
    if (ratelimit_peek(&app->rds, req->arena, fkey, app->cfg.login_max_failures, &rl, err) != BT_OK)
        return BT_ERR;
    if (!rl.allowed) {
        ratelimit_error(&rl, err);
        snprintf(err->detail, sizeof(err->detail),
                 "too many failed logins for this account; retry in %d s", rl.retry_after);
        return BT_ERR;
    }
    if (account_by_email(&app->db, req->arena, in.email, &acc, &found, err) != BT_OK)
        return BT_ERR;
    /* Always one verification, so both outcomes cost the same. */
    ok = password_verify(found && acc.password_hash ? acc.password_hash : st->dummy_hash,
                         in.password, strlen(in.password)) &&
         found && acc.password_hash;
    if (!ok)
        return login_failed(app, req, fkey, found ? acc.id : 0, err);
    if (acc.banned)
        return err_set(err, 403, "forbidden", "this account is banned");
    if (password_needs_rehash(acc.password_hash, app->cfg.pwhash_profile)) {
        char hash[PASSWORD_HASH_MAX], uid[24];
        snprintf(uid, sizeof(uid), "%" PRId64, acc.id);
        if (password_hash(in.password, strlen(in.password), app->cfg.pwhash_profile, hash, err) !=
                BT_OK ||
            !db_exec(&app->db, req->arena, &q_rehash, 2, (const char *[]){uid, hash}, err))
            return BT_ERR;
        log_msg(LOGL_INFO, req->request_id, "password hash of user %s upgraded", uid);
    }
    {
        /* A success clears the failure count; losing this is harmless. */
        const char *argv[2] = {"DEL", fkey};
        struct bt_err ignored;
        err_clear(&ignored);
        rds_cmd(&app->rds, req->arena, &ignored, 2, argv, NULL);
    }
    if (db_begin(&app->db, err) != BT_OK)
        return BT_ERR;
    return session_finish(app, req, acc.id, AUDIT_LOGIN_SUCCESS, 200, resp, err);
}

struct refresh_in {
    const char *refresh_token;
};

static const struct valid_rule refresh_rules[] = {
    VSTR(struct refresh_in, refresh_token, VF_REQUIRED | VF_BYTES, 1, 128),
    VALID_END,
};

static int bad_refresh(struct bt_err *err, const char *why)
{
    return err_set(err, 401, "unauthorized", "invalid refresh token: %s", why);
}

/* Reads the body and finds the token's row (locked) inside a transaction
 * the caller opened; *row is NULL when no such token exists. */
static int find_token(struct app *app, struct http_req *req, PGresult **row, struct bt_err *err)
{
    struct refresh_in in = {NULL};
    char hash[REFRESH_HASH_HEX];
    const char *p[1] = {hash};
    PGresult *r;

    *row = NULL;
    if (valid_object(req->json, refresh_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    if (!refresh_hash(&SESSION_STATE(app)->rkey, in.refresh_token, hash))
        return BT_OK;
    r = db_exec(&app->db, req->arena, &q_refresh_find, 1, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) == 1)
        *row = r;
    return BT_OK;
}

static int revoke_family(struct app *app, struct http_req *req, const char *family,
                         struct bt_err *err)
{
    return db_exec(&app->db, req->arena, &q_family_revoke, 1, &family, err) ? BT_OK : BT_ERR;
}

int post_refresh(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    PGresult *t;
    const char *token_id, *family;

    if (db_begin(&app->db, err) != BT_OK)
        return BT_ERR;
    if (find_token(app, req, &t, err) != BT_OK)
        goto fail;
    if (!t) {
        bad_refresh(err, "unknown");
        goto fail;
    }
    token_id = db_str(t, 0, 0);
    family = db_str(t, 0, 2);
    if (db_bool(t, 0, 6)) {
        err_set(err, 403, "forbidden", "this account is banned");
        goto fail;
    }
    if (db_bool(t, 0, 4)) {
        bad_refresh(err, "revoked");
        goto fail;
    }
    if (db_bool(t, 0, 3)) {
        /* Reuse of a rotated token: revoke the family, record it, refuse. */
        struct audit_entry ae;
        struct json_object *detail = json_object_new_object();
        json_object_object_add(detail, "family", json_object_new_string(family));
        json_object_object_add(detail, "token_id", json_object_new_int64(db_i64(t, 0, 0)));
        int rc;
        audit_from_request(&ae, req, AUDIT_REFRESH_REUSE, db_i64(t, 0, 1));
        ae.detail = detail;
        rc = revoke_family(app, req, family, err) == BT_OK &&
                     audit_write(&app->db, req->arena, &ae, err) == BT_OK &&
                     db_commit(&app->db, err) == BT_OK
                 ? BT_OK
                 : BT_ERR;
        json_object_put(detail);
        if (rc != BT_OK)
            goto fail;
        log_msg(LOGL_WARN, req->request_id, "refresh token reuse: family %s of user %s revoked",
                family, db_str(t, 0, 1));
        return bad_refresh(err, "already used; the session was revoked");
    }
    if (db_bool(t, 0, 5)) {
        bad_refresh(err, "expired");
        goto fail;
    }
    if (!db_exec(&app->db, req->arena, &q_refresh_use, 1, &token_id, err))
        goto fail;
    return session_answer(app, req, db_i64(t, 0, 1), family, 200, resp, err);
fail:
    db_rollback(&app->db);
    return BT_ERR;
}

int post_logout(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct audit_entry ae;
    PGresult *t;

    if (db_begin(&app->db, err) != BT_OK)
        return BT_ERR;
    if (find_token(app, req, &t, err) != BT_OK)
        goto fail;
    /* Unknown or already revoked tokens are a success too: logging out is
     * idempotent and says nothing about the token. */
    if (t && !db_bool(t, 0, 4)) {
        audit_from_request(&ae, req, AUDIT_LOGOUT, db_i64(t, 0, 1));
        if (revoke_family(app, req, db_str(t, 0, 2), err) != BT_OK ||
            audit_write(&app->db, req->arena, &ae, err) != BT_OK)
            goto fail;
    }
    if (db_commit(&app->db, err) != BT_OK)
        goto fail;
    http_resp_empty(resp, 204);
    return BT_OK;
fail:
    db_rollback(&app->db);
    return BT_ERR;
}
