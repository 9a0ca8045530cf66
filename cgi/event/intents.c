/*
 * intents.c - GET /intents/:id: an intent and its outcome, for the company
 * that sent it or an admin.  Anyone else gets the same 404 as for an id
 * that does not exist, so ids reveal nothing.
 */
#include "intents.h"

#include <json-c/json.h>
#include <string.h>

DB_STMT(q_intent_get,
        "SELECT id, world_id, company_id, kind, args::text, status, reason, created_tick, "
        "applied_tick, request_id, "
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
        "FROM intents WHERE id = $1");

int intents_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const char *id = http_param(req, "id");
    const char *p[1] = {id};
    struct json_object *o;
    PGresult *r;

    if (!id || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id))
        return err_set(err, 404, "not-found", "no such intent");
    r = db_exec(&app->db, req->arena, &q_intent_get, 1, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) != 1 ||
        (db_i64(r, 0, 2) != req->who.company_id && strcmp(req->who.role, "admin") != 0))
        return err_set(err, 404, "not-found", "no such intent");
    o = json_object_new_object();
    json_object_object_add(o, "intent_id", json_object_new_int64(db_i64(r, 0, 0)));
    json_object_object_add(o, "world_id", json_object_new_int64(db_i64(r, 0, 1)));
    json_object_object_add(o, "company_id", json_object_new_int64(db_i64(r, 0, 2)));
    json_object_object_add(o, "kind", json_object_new_string(db_str(r, 0, 3)));
    json_object_object_add(o, "args", json_tokener_parse(db_str(r, 0, 4)));
    json_object_object_add(o, "status", json_object_new_string(db_str(r, 0, 5)));
    json_object_object_add(o, "reason",
                           db_str(r, 0, 6) ? json_object_new_string(db_str(r, 0, 6)) : NULL);
    json_object_object_add(o, "created_tick", json_object_new_int64(db_i64(r, 0, 7)));
    json_object_object_add(o, "applied_tick",
                           db_str(r, 0, 8) ? json_object_new_int64(db_i64(r, 0, 8)) : NULL);
    json_object_object_add(o, "request_id",
                           db_str(r, 0, 9) ? json_object_new_string(db_str(r, 0, 9)) : NULL);
    json_object_object_add(o, "created_at", json_object_new_string(db_str(r, 0, 10)));
    http_resp_json(resp, 200, o);
    return BT_OK;
}
