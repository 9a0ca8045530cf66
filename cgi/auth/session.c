/*
 * session.c - issuing sessions and the steps register, guest, login,
 * refresh and upgrade share (see session.h).
 *
 * A session is an access token (lib/token, short-lived, never stored) and
 * a refresh token (lib/refresh, stored only as its keyed hash, in a
 * family).  Everything that writes runs inside the caller's transaction,
 * so a 2xx always means the refresh token and audit entry are durable.
 */
#include "session.h"
#include "db.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

DB_STMT(q_refresh_insert, "INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) "
                          "VALUES ($1, COALESCE($2::uuid, gen_random_uuid()), decode($3, 'hex'), "
                          "now() + make_interval(secs => $4::int)) RETURNING family");
DB_STMT(q_company_insert, "INSERT INTO companies (user_id, world_id, name, region) "
                          "SELECT $1, w.id, $2, $3 FROM worlds w WHERE w.is_default RETURNING id");

int session_init(struct app *app, struct bt_err *err)
{
    struct session_state *st = calloc(1, sizeof(*st));

    if (!st)
        return err_internal(err, "out of memory");
    app->state = st;
    if (refresh_key_load(&st->rkey, app->cfg.refresh_key_file, err) != BT_OK)
        return BT_ERR;
    return password_dummy(app->cfg.pwhash_profile, st->dummy_hash, err);
}

void session_fini(struct app *app)
{
    free(app->state);
    app->state = NULL;
}

int session_conflict(struct bt_err *err, const char *field, const char *message)
{
    err_clear(err);
    err_set(err, 409, "conflict", "%s", message);
    err_field(err, field, "taken", "%s", message);
    return BT_ERR;
}

void session_check_email(struct arena *a, const char **email, struct bt_err *err)
{
    char *norm;

    if (!*email)
        return;
    norm = account_normalize_email(a, *email);
    if (!norm || !valid_email(norm)) {
        err_field(err, "email", "format", "must be an email address");
        *email = NULL;
        return;
    }
    *email = norm;
}

int session_create_company(struct app *app, struct http_req *req, int64_t user_id, const char *name,
                           const char *region, struct bt_err *err)
{
    char uid[24];
    const char *p[3] = {uid, name, region};
    PGresult *r;

    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    r = db_exec(&app->db, req->arena, &q_company_insert, 3, p, err);
    if (!r)
        return err->status == 409
                   ? session_conflict(err, "company_name",
                                      "a company with this name already exists in the world")
                   : BT_ERR;
    if (PQntuples(r) != 1)
        return err_internal(err, "no default world to found a company in");
    return BT_OK;
}

/* Inside the caller's transaction: stores a new refresh token for acc (in
 * `family`, or a new family when NULL) and signs an access token.  *out is
 * the answer {access_token, token_type, expires_in, refresh_token,
 * refresh_expires_in, user, company}; the caller owns it. */
static int session_issue(struct app *app, struct http_req *req, const struct account *acc,
                         const char *family, struct json_object **out, struct bt_err *err)
{
    struct session_state *st = SESSION_STATE(app);
    struct token_claims c;
    char access[TOKEN_MAX_LEN], refresh[REFRESH_TOKEN_LEN + 1], hash[REFRESH_HASH_HEX];
    char uid[24], ttl[16];
    const char *p[4] = {uid, family, hash, ttl};
    struct json_object *o;

    memset(&c, 0, sizeof(c));
    c.sub = acc->id;
    snprintf(c.role, sizeof(c.role), "%s", acc->role);
    c.cid = acc->company_id;
    c.wid = acc->world_id;
    c.guest = acc->is_guest;
    if (token_issue(&app->keys, &c, (int64_t)time(NULL), access, sizeof(access), err) != BT_OK)
        return BT_ERR;
    refresh_new(&st->rkey, refresh, hash);
    snprintf(uid, sizeof(uid), "%" PRId64, acc->id);
    snprintf(ttl, sizeof(ttl), "%d", app->cfg.refresh_ttl_s);
    if (!db_exec(&app->db, req->arena, &q_refresh_insert, 4, p, err))
        return BT_ERR;
    o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(access));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "expires_in", json_object_new_int(app->keys.ttl_s));
    json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
    json_object_object_add(o, "refresh_expires_in", json_object_new_int(app->cfg.refresh_ttl_s));
    json_object_object_add(o, "user", account_user_json(acc, true));
    json_object_object_add(o, "company", account_company_json(acc));
    *out = o;
    return BT_OK;
}

int session_answer(struct app *app, struct http_req *req, int64_t user_id, const char *family,
                   int status, struct http_resp *resp, struct bt_err *err)
{
    struct json_object *out = NULL;
    struct account acc;
    bool found = false;

    if (account_by_id(&app->db, req->arena, user_id, &acc, &found, err) != BT_OK)
        goto fail;
    if (!found) {
        err_internal(err, "user %" PRId64 " vanished inside its transaction", user_id);
        goto fail;
    }
    if (session_issue(app, req, &acc, family, &out, err) != BT_OK ||
        db_commit(&app->db, err) != BT_OK)
        goto fail;
    http_resp_json(resp, status, out);
    return BT_OK;
fail:
    json_object_put(out);
    db_rollback(&app->db);
    return BT_ERR;
}

int session_finish(struct app *app, struct http_req *req, int64_t user_id, enum audit_event ev,
                   int status, struct http_resp *resp, struct bt_err *err)
{
    struct audit_entry ae;

    audit_from_request(&ae, req, ev, user_id);
    if (audit_write(&app->db, req->arena, &ae, err) != BT_OK) {
        db_rollback(&app->db);
        return BT_ERR;
    }
    return session_answer(app, req, user_id, NULL, status, resp, err);
}
