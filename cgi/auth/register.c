/*
 * register.c - creating accounts: POST /auth/register, POST /auth/guest,
 * POST /auth/upgrade.
 *
 * Each creates (or completes) a user and answers with a fresh session, all
 * in one transaction with its audit entry.  The password is hashed before
 * the transaction opens, so no database transaction waits on argon2id.
 *
 * Enumeration: registering an email that exists must fail, and saying so
 * (409 naming "email") is unavoidable without an out-of-band channel such
 * as a confirmation mail, which this game does not have.  What register
 * reveals is bounded by the per-IP limits on /auth/ (nginx) and costs an
 * argon2id hash per attempt on both paths; login, refresh and every other
 * endpoint never reveal whether an email exists (see login.c).
 */
#include "audit.h"
#include "log.h"
#include "region.h"
#include "session.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

DB_STMT(q_user_insert, "INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id");
DB_STMT(q_guest_insert, "INSERT INTO users (is_guest) VALUES (true) RETURNING id");
DB_STMT(q_user_upgrade, "UPDATE users SET email = $2, password_hash = $3, is_guest = false "
                        "WHERE id = $1 AND is_guest RETURNING id");

/* Company names: 3-32 printable characters without surrounding spaces. */
static void check_company_name(const char *name, struct bt_err *err)
{
    size_t n;

    if (!name)
        return;
    n = strlen(name);
    if (name[0] == ' ' || name[n - 1] == ' ')
        err_field(err, "company_name", "format", "must not start or end with a space");
}

/* One transaction: the user row (insert, taking params; a unique
 * violation means the email is taken), its company, the audit entry and
 * the session; answers 201. */
static int create_account(struct app *app, struct http_req *req, const struct db_stmt *insert,
                          int nparams, const char *const *params, const char *company_name,
                          const char *region, enum audit_event ev, struct http_resp *resp,
                          struct bt_err *err)
{
    PGresult *r;

    if (db_begin(&app->db, err) != BT_OK)
        return BT_ERR;
    r = db_exec(&app->db, req->arena, insert, nparams, params, err);
    if (!r) {
        if (err->status == 409)
            session_conflict(err, "email", "an account with this email already exists");
        goto fail;
    }
    if (session_create_company(app, req, db_i64(r, 0, 0), company_name, region, err) != BT_OK)
        goto fail;
    return session_finish(app, req, db_i64(r, 0, 0), ev, 201, resp, err);
fail:
    db_rollback(&app->db);
    return BT_ERR;
}

struct register_in {
    const char *email;
    const char *password;
    const char *company_name;
    const char *region;
};

static const struct valid_rule register_rules[] = {
    VSTR(struct register_in, email, VF_REQUIRED | VF_BYTES, 1, 254),
    VSTR(struct register_in, password, VF_REQUIRED | VF_BYTES, PASSWORD_MIN, PASSWORD_MAX),
    VSTR(struct register_in, company_name, VF_REQUIRED | VF_PRINTABLE, 3, 32),
    VENUM(struct register_in, region, VF_REQUIRED, region_ids),
    VALID_END,
};

int post_register(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct register_in in = {NULL, NULL, NULL, NULL};
    char hash[PASSWORD_HASH_MAX];

    if (valid_object(req->json, register_rules, &in, 0, err) != BT_OK && err->nfields == 0)
        return BT_ERR;
    session_check_email(req->arena, &in.email, err);
    check_company_name(in.company_name, err);
    if (err_check_fields(err) != BT_OK)
        return BT_ERR;
    if (password_hash(in.password, strlen(in.password), app->cfg.pwhash_profile, hash, err) !=
        BT_OK)
        return BT_ERR;
    return create_account(app, req, &q_user_insert, 2, (const char *[]){in.email, hash},
                          in.company_name, in.region, AUDIT_REGISTER, resp, err);
}

struct guest_in {
    const char *company_name;
    const char *region;
};

static const struct valid_rule guest_rules[] = {
    VSTR(struct guest_in, company_name, VF_NULLABLE | VF_PRINTABLE, 3, 32),
    VENUM(struct guest_in, region, VF_NULLABLE, region_ids),
    VALID_END,
};

int post_guest(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct guest_in in = {NULL, NULL};
    unsigned char rnd[5];
    char name[24];

    if (valid_object(req->json, guest_rules, &in, 0, err) != BT_OK && err->nfields == 0)
        return BT_ERR;
    check_company_name(in.company_name, err);
    if (err_check_fields(err) != BT_OK)
        return BT_ERR;
    if (!in.company_name) {
        /* 40 random bits: a clash is improbable, and would be a plain 409. */
        char hex[2 * sizeof(rnd) + 1];
        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
        snprintf(name, sizeof(name), "Guest %s", hex);
        in.company_name = name;
    }
    if (!in.region)
        in.region = region_ids[randombytes_uniform(REGION_COUNT)];
    return create_account(app, req, &q_guest_insert, 0, NULL, in.company_name, in.region,
                          AUDIT_GUEST, resp, err);
}

struct upgrade_in {
    const char *email;
    const char *password;
};

static const struct valid_rule upgrade_rules[] = {
    VSTR(struct upgrade_in, email, VF_REQUIRED | VF_BYTES, 1, 254),
    VSTR(struct upgrade_in, password, VF_REQUIRED | VF_BYTES, PASSWORD_MIN, PASSWORD_MAX),
    VALID_END,
};

int post_upgrade(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct upgrade_in in = {NULL, NULL};
    char hash[PASSWORD_HASH_MAX], uid[24];
    PGresult *r;

    if (valid_object(req->json, upgrade_rules, &in, 0, err) != BT_OK && err->nfields == 0)
        return BT_ERR;
    session_check_email(req->arena, &in.email, err);
    if (err_check_fields(err) != BT_OK)
        return BT_ERR;
    if (!req->who.guest)
        return err_set(err, 409, "conflict", "this account is already a full account");
    if (password_hash(in.password, strlen(in.password), app->cfg.pwhash_profile, hash, err) !=
        BT_OK)
        return BT_ERR;
    snprintf(uid, sizeof(uid), "%" PRId64, req->who.user_id);
    if (db_begin(&app->db, err) != BT_OK)
        return BT_ERR;
    r = db_exec(&app->db, req->arena, &q_user_upgrade, 3, (const char *[]){uid, in.email, hash},
                err);
    if (!r) {
        if (err->status == 409)
            session_conflict(err, "email", "an account with this email already exists");
        goto fail;
    }
    if (PQntuples(r) == 0) {
        /* The token still said guest, but the account was upgraded since. */
        err_set(err, 409, "conflict", "this account is already a full account");
        goto fail;
    }
    log_msg(LOGL_INFO, req->request_id, "guest %s upgrades to a full account", uid);
    return session_finish(app, req, req->who.user_id, AUDIT_UPGRADE, 200, resp, err);
fail:
    db_rollback(&app->db);
    return BT_ERR;
}
