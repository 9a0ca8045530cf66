/*
 * users.c - the admin API on accounts: search, details, ban/unban, audit.
 *
 *   GET  /api/admin/users?q=&limit=&after=   search by email or company name
 *   GET  /api/admin/users/:id
 *   POST /api/admin/users/:id/ban {reason?}
 *   POST /api/admin/users/:id/unban
 *   GET  /api/admin/audit?user_id=&limit=&before=
 *
 * Lists are keyset-paginated (by id), never OFFSET.  A ban is durable in
 * PostgreSQL before it is mirrored into Redis; if Redis refuses, the
 * answer is a 503 and repeating the call is safe (the ban keeps its first
 * timestamp).  Admins cannot ban themselves.
 */
#include "users.h"
#include "account.h"
#include "auth.h"
#include "log.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERS_PAGE_MAX     100
#define USERS_PAGE_DEFAULT 50

DB_STMT(
    q_users_search,
    "SELECT u.id, u.email, u.role, u.is_guest, to_json(u.created_at) #>> '{}', "
    "to_json(u.banned_at) #>> '{}', c.id, c.name, c.region "
    "FROM users u LEFT JOIN companies c ON c.user_id = u.id "
    "WHERE ($1::text IS NULL OR u.email LIKE $1 ESCAPE '\\' OR lower(c.name) LIKE $1 ESCAPE '\\') "
    "AND u.id > $2::bigint ORDER BY u.id LIMIT $3::int");
DB_STMT(q_user_ban,
        "UPDATE users SET banned_at = CASE WHEN $2::bool THEN COALESCE(banned_at, now()) END, "
        "ban_reason = CASE WHEN $2::bool THEN $3 END WHERE id = $1 RETURNING id");
DB_STMT(q_user_revoke_all, "UPDATE refresh_tokens SET revoked_at = now() "
                           "WHERE user_id = $1 AND revoked_at IS NULL");
DB_STMT(q_user_live_sessions, "SELECT count(DISTINCT family) FROM refresh_tokens "
                              "WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL "
                              "AND expires_at > now()");
DB_STMT(q_audit_list,
        "SELECT id, to_json(at) #>> '{}', event, user_id, actor_id, ip, user_agent, request_id, "
        "detail::text FROM audit_log WHERE ($1::bigint IS NULL OR user_id = $1) "
        "AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3::int");

static struct json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct json_object *id_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : json_object_new_int64(db_i64(r, row, col));
}

/* Answers {<items>: arr, <next>: id of the last row when the page is full,
 * else null}; r's first column is the row id. */
static void answer_page(struct http_resp *resp, const char *items, struct json_object *arr,
                        const char *next, const PGresult *r, int64_t limit)
{
    struct json_object *o = json_object_new_object();
    int n = PQntuples(r);

    json_object_object_add(o, items, arr);
    json_object_object_add(o, next,
                           n == limit && n > 0 ? json_object_new_int64(db_i64(r, n - 1, 0)) : NULL);
    http_resp_json(resp, 200, o);
}

/* The :id path parameter; 404 unless a positive integer. */
static int path_id(struct http_req *req, int64_t *id, struct bt_err *err)
{
    const char *s = http_param(req, "id");
    char *end;

    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return err_set(err, 404, "not-found", "no such user");
    *id = strtoll(s, &end, 10);
    if (*id <= 0)
        return err_set(err, 404, "not-found", "no such user");
    return BT_OK;
}

int users_set_ban(struct app *app, struct arena *a, struct audit_entry *ctx, int64_t user_id,
                  bool ban, const char *reason, struct bt_err *err)
{
    char uid[24];
    const char *p[3] = {uid, ban ? "true" : "false", reason};
    struct json_object *detail = NULL;
    PGresult *r;
    int rc = BT_ERR;

    snprintf(uid, sizeof(uid), "%" PRId64, user_id);
    if (db_begin(&app->db, err) != BT_OK)
        return BT_ERR;
    r = db_exec(&app->db, a, &q_user_ban, 3, p, err);
    if (!r)
        goto out;
    if (PQntuples(r) == 0) {
        err_set(err, 404, "not-found", "no such user");
        goto out;
    }
    if (ban && !db_exec(&app->db, a, &q_user_revoke_all, 1, p, err))
        goto out;
    detail = json_object_new_object();
    if (reason)
        json_object_object_add(detail, "reason", json_object_new_string(reason));
    ctx->event = ban ? AUDIT_BAN : AUDIT_UNBAN;
    ctx->user_id = user_id;
    ctx->detail = detail;
    if (audit_write(&app->db, a, ctx, err) != BT_OK || db_commit(&app->db, err) != BT_OK)
        goto out;
    rc = BT_OK;
out:
    ctx->detail = NULL;
    json_object_put(detail);
    if (rc != BT_OK) {
        db_rollback(&app->db);
        return BT_ERR;
    }
    if (auth_sync_ban(app, user_id, ban, err) != BT_OK) {
        err_unavailable(err, 1, "ban of user %s committed but not mirrored into redis", uid);
        return BT_ERR;
    }
    log_msg(LOGL_INFO, ctx->request_id, "user %s %s by %s", uid, ban ? "banned" : "unbanned",
            ctx->actor_id ? "an admin" : "the command line");
    return BT_OK;
}

struct list_q {
    const char *q;
    int64_t limit;
    int64_t after;
};

static const struct valid_rule list_rules[] = {
    VSTR(struct list_q, q, 0, 1, 254),
    VINT(struct list_q, limit, 0, 1, USERS_PAGE_MAX),
    VINT(struct list_q, after, 0, 0, INT64_MAX),
    VALID_END,
};

/* "%<q lower-cased, LIKE wildcards escaped>%" in the arena. */
static const char *like_pattern(struct arena *a, const char *q)
{
    char *out = arena_alloc(a, 2 * strlen(q) + 3), *o = out;

    if (!out)
        return NULL;
    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *o++ = '\\';
        *o++ = (*q >= 'A' && *q <= 'Z') ? (char)(*q - 'A' + 'a') : *q;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

int users_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct list_q in = {NULL, USERS_PAGE_DEFAULT, 0};
    char after[24], limit[16];
    const char *p[3] = {NULL, after, limit};
    struct json_object *arr;
    PGresult *r;
    int i, n;

    if (valid_query(req, list_rules, &in, err) != BT_OK)
        return BT_ERR;
    if (in.q && !(p[0] = like_pattern(req->arena, in.q)))
        return err_internal(err, "out of memory");
    snprintf(after, sizeof(after), "%" PRId64, in.after);
    snprintf(limit, sizeof(limit), "%" PRId64, in.limit);
    r = db_exec(&app->db, req->arena, &q_users_search, 3, p, err);
    if (!r)
        return BT_ERR;
    n = PQntuples(r);
    arr = json_object_new_array();
    for (i = 0; i < n; i++) {
        struct json_object *u = json_object_new_object(), *c = NULL;
        json_object_object_add(u, "id", json_object_new_int64(db_i64(r, i, 0)));
        json_object_object_add(u, "email", str_or_null(db_str(r, i, 1)));
        json_object_object_add(u, "role", str_or_null(db_str(r, i, 2)));
        json_object_object_add(u, "is_guest", json_object_new_boolean(db_bool(r, i, 3)));
        json_object_object_add(u, "created_at", str_or_null(db_str(r, i, 4)));
        json_object_object_add(u, "banned", json_object_new_boolean(db_str(r, i, 5) != NULL));
        json_object_object_add(u, "banned_at", str_or_null(db_str(r, i, 5)));
        if (!PQgetisnull(r, i, 6)) {
            c = json_object_new_object();
            json_object_object_add(c, "id", json_object_new_int64(db_i64(r, i, 6)));
            json_object_object_add(c, "name", str_or_null(db_str(r, i, 7)));
            json_object_object_add(c, "region", str_or_null(db_str(r, i, 8)));
        }
        json_object_object_add(u, "company", c);
        json_object_array_add(arr, u);
    }
    answer_page(resp, "users", arr, "next_after", r, in.limit);
    return BT_OK;
}

int users_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct account acc;
    struct json_object *o;
    bool found = false;
    char uid[24];
    const char *p[1] = {uid};
    PGresult *r;
    int64_t id;

    if (path_id(req, &id, err) != BT_OK ||
        account_by_id(&app->db, req->arena, id, &acc, &found, err) != BT_OK)
        return BT_ERR;
    if (!found)
        return err_set(err, 404, "not-found", "no such user");
    snprintf(uid, sizeof(uid), "%" PRId64, id);
    r = db_exec(&app->db, req->arena, &q_user_live_sessions, 1, p, err);
    if (!r)
        return BT_ERR;
    o = account_user_json(&acc, true);
    json_object_object_add(o, "banned", json_object_new_boolean(acc.banned));
    json_object_object_add(o, "banned_at", str_or_null(acc.banned_at));
    json_object_object_add(o, "ban_reason", str_or_null(acc.ban_reason));
    json_object_object_add(o, "active_sessions", json_object_new_int64(db_i64(r, 0, 0)));
    json_object_object_add(o, "company", account_company_json(&acc));
    http_resp_json(resp, 200, o);
    return BT_OK;
}

struct ban_in {
    const char *reason;
};

static const struct valid_rule ban_rules[] = {
    VSTR(struct ban_in, reason, VF_NULLABLE | VF_PRINTABLE, 1, 500),
    VALID_END,
};

static int set_ban(struct app *app, struct http_req *req, struct http_resp *resp, bool ban,
                   struct bt_err *err)
{
    struct ban_in in = {NULL};
    struct audit_entry ae;
    int64_t id;

    if (path_id(req, &id, err) != BT_OK)
        return BT_ERR;
    if (ban && req->json && valid_object(req->json, ban_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    if (ban && id == req->who.user_id)
        return err_set(err, 409, "conflict", "an admin cannot ban their own account");
    audit_from_request(&ae, req, ban ? AUDIT_BAN : AUDIT_UNBAN, id);
    ae.actor_id = req->who.user_id;
    if (users_set_ban(app, req->arena, &ae, id, ban, in.reason, err) != BT_OK)
        return BT_ERR;
    return users_get(app, req, resp, err);
}

int users_ban(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    return set_ban(app, req, resp, true, err);
}

int users_unban(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    return set_ban(app, req, resp, false, err);
}

struct audit_q {
    int64_t user_id;
    int64_t limit;
    int64_t before;
};

static const struct valid_rule audit_rules[] = {
    VID(struct audit_q, user_id, 0),
    VINT(struct audit_q, limit, 0, 1, USERS_PAGE_MAX),
    VID(struct audit_q, before, 0),
    VALID_END,
};

int users_audit(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct audit_q in = {0, USERS_PAGE_DEFAULT, 0};
    char uid[24], before[24], limit[16];
    const char *p[3] = {NULL, NULL, limit};
    struct json_object *arr;
    PGresult *r;
    int i, n;

    if (valid_query(req, audit_rules, &in, err) != BT_OK)
        return BT_ERR;
    snprintf(uid, sizeof(uid), "%" PRId64, in.user_id);
    snprintf(before, sizeof(before), "%" PRId64, in.before);
    snprintf(limit, sizeof(limit), "%" PRId64, in.limit);
    p[0] = in.user_id ? uid : NULL;
    p[1] = in.before ? before : NULL;
    r = db_exec(&app->db, req->arena, &q_audit_list, 3, p, err);
    if (!r)
        return BT_ERR;
    n = PQntuples(r);
    arr = json_object_new_array();
    for (i = 0; i < n; i++) {
        struct json_object *e = json_object_new_object();
        struct json_object *detail = json_tokener_parse(db_str(r, i, 8));
        json_object_object_add(e, "id", json_object_new_int64(db_i64(r, i, 0)));
        json_object_object_add(e, "at", str_or_null(db_str(r, i, 1)));
        json_object_object_add(e, "event", str_or_null(db_str(r, i, 2)));
        json_object_object_add(e, "user_id", id_or_null(r, i, 3));
        json_object_object_add(e, "actor_id", id_or_null(r, i, 4));
        json_object_object_add(e, "ip", str_or_null(db_str(r, i, 5)));
        json_object_object_add(e, "user_agent", str_or_null(db_str(r, i, 6)));
        json_object_object_add(e, "request_id", str_or_null(db_str(r, i, 7)));
        json_object_object_add(e, "detail", detail ? detail : json_object_new_object());
        json_object_array_add(arr, e);
    }
    answer_page(resp, "entries", arr, "next_before", r, in.limit);
    return BT_OK;
}
