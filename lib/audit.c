/*
 * audit.c - writing audit_log rows (see audit.h).
 *
 * Everything that came from a client (user agent, request id) is sanitised
 * and bounded before it is stored; the detail object is ours.  Nothing here
 * ever reads the log back: that is the admin service's business.
 */
#include "audit.h"
#include "db.h"
#include "http.h"
#include "utf8.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char *const event_names[AUDIT_EVENT_COUNT] = {
    [AUDIT_REGISTER] = "register",
    [AUDIT_GUEST] = "guest",
    [AUDIT_LOGIN_SUCCESS] = "login_success",
    [AUDIT_LOGIN_FAILURE] = "login_failure",
    [AUDIT_REFRESH_REUSE] = "refresh_reuse",
    [AUDIT_LOGOUT] = "logout",
    [AUDIT_UPGRADE] = "upgrade",
    [AUDIT_BAN] = "ban",
    [AUDIT_UNBAN] = "unban",
    [AUDIT_ADMIN_CREATED] = "admin_created",
};

DB_STMT(q_audit_insert,
        "INSERT INTO audit_log (event, user_id, actor_id, ip, user_agent, request_id, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7::jsonb, '{}'))");

const char *audit_event_name(enum audit_event ev)
{
    if ((int)ev < 0 || ev >= AUDIT_EVENT_COUNT)
        return NULL;
    return event_names[ev];
}

static const char *bounded(struct arena *a, const char *s, size_t max)
{
    char *out;

    if (!s || !*s)
        return NULL;
    out = arena_alloc(a, max + 1);
    if (!out)
        return NULL;
    utf8_copy_sanitized(out, max + 1, s);
    return out;
}

void audit_from_request(struct audit_entry *e, struct http_req *req, enum audit_event ev,
                        int64_t user_id)
{
    memset(e, 0, sizeof(*e));
    e->event = ev;
    e->user_id = user_id;
    e->ip = bounded(req->arena, req->remote_addr, 64);
    e->user_agent = bounded(req->arena, http_header(req, "User-Agent"), AUDIT_UA_MAX);
    e->request_id = bounded(req->arena, req->request_id, 64);
}

int audit_write(struct db *db, struct arena *a, const struct audit_entry *e, struct bt_err *err)
{
    char uid[24], aid[24];
    const char *p[7];

    p[0] = audit_event_name(e->event);
    if (!p[0])
        BT_BUG("audit event %d out of range", (int)e->event);
    snprintf(uid, sizeof(uid), "%" PRId64, e->user_id);
    snprintf(aid, sizeof(aid), "%" PRId64, e->actor_id);
    p[1] = e->user_id > 0 ? uid : NULL;
    p[2] = e->actor_id > 0 ? aid : NULL;
    p[3] = e->ip;
    p[4] = e->user_agent;
    p[5] = e->request_id;
    p[6] = e->detail ? json_object_to_json_string_ext(e->detail, JSON_C_TO_STRING_PLAIN) : NULL;
    return db_exec(db, a, &q_audit_insert, 7, p, err) ? BT_OK : BT_ERR;
}
