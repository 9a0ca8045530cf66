/*
 * audit.h - the append-only account audit log (table audit_log, 0003).
 *
 * Security-relevant account events are written with who they concern, who
 * acted (an admin, or nobody for the user themselves and the CLI) and where
 * the request came from (IP, user agent, request id).  Handlers write the
 * entry inside the transaction of the change it records, so an event is
 * logged exactly when it happened; a failed login has no change of its
 * own and is logged in a transaction of one statement.
 *
 * The database refuses UPDATE/DELETE/TRUNCATE on the table (trigger).
 */
#ifndef BT_AUDIT_H
#define BT_AUDIT_H

#include <stdint.h>
#include "arena.h"
#include "err.h"

struct db;
struct http_req;
struct json_object;

enum audit_event {
    AUDIT_REGISTER,
    AUDIT_GUEST,
    AUDIT_LOGIN_SUCCESS,
    AUDIT_LOGIN_FAILURE,
    AUDIT_REFRESH_REUSE,
    AUDIT_LOGOUT,
    AUDIT_UPGRADE,
    AUDIT_BAN,
    AUDIT_UNBAN,
    AUDIT_ADMIN_CREATED,
    AUDIT_EVENT_COUNT
};

#define AUDIT_UA_MAX 256 /* user agents are truncated (on a character boundary) */

struct audit_entry {
    enum audit_event event;
    int64_t user_id;            /* 0 = none */
    int64_t actor_id;           /* 0 = none */
    const char *ip;             /* borrowed; NULL = unknown */
    const char *user_agent;     /* borrowed; NULL = unknown */
    const char *request_id;     /* borrowed; NULL = none */
    struct json_object *detail; /* borrowed, an object; NULL = {} */
};

/* The event's name as stored ("login_failure"); NULL when out of range. */
const char *audit_event_name(enum audit_event ev);

/* An entry for ev about user_id, with the request's address, user agent
 * (sanitised and truncated to AUDIT_UA_MAX bytes, in req's arena) and id. */
void audit_from_request(struct audit_entry *e, struct http_req *req, enum audit_event ev,
                        int64_t user_id);

/* Appends the entry (one INSERT; the caller's transaction if one is open). */
int audit_write(struct db *db, struct arena *a, const struct audit_entry *e, struct bt_err *err);

#endif
