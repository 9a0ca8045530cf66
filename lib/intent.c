/*
 * intent.c - intent_record (see intent.h).
 *
 * One INSERT ... ON CONFLICT DO NOTHING: with a key, a concurrent duplicate
 * waits for the first insert to commit and then finds nothing to insert,
 * so it reads the first intent instead - exactly one intent per key.  The
 * created tick is the world's last committed tick, read in the same
 * statement.  The request id travels with the intent so that tickd logs it
 * when it applies the intent.
 */
#include "intent.h"
#include "app.h"
#include "auth.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

DB_STMT(q_intent_insert,
        "INSERT INTO intents (world_id, company_id, kind, args, idem_key, request_id, "
        "created_tick) SELECT $1, $2, $3, $4::jsonb, $5, $6, tick FROM worlds WHERE id = $1 "
        "ON CONFLICT (company_id, idem_key) WHERE idem_key IS NOT NULL DO NOTHING "
        "RETURNING id, created_tick");
DB_STMT(q_intent_by_key, "SELECT id, created_tick, kind = $3 AND args = $4::jsonb FROM intents "
                         "WHERE company_id = $1 AND idem_key = $2");

static bool key_ok(const char *k)
{
    size_t i, n = strlen(k);

    if (n < 1 || n > INTENT_KEY_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

static void answer(struct http_req *req, struct http_resp *resp, long long id, long long tick)
{
    struct json_object *o = json_object_new_object();
    char *loc = arena_printf(req->arena, "/intents/%lld", id);

    json_object_object_add(o, "intent_id", json_object_new_int64(id));
    json_object_object_add(o, "status", json_object_new_string("queued"));
    json_object_object_add(o, "tick", json_object_new_int64(tick));
    http_resp_json(resp, 202, o);
    if (loc)
        http_resp_header(resp, "Location", loc);
}

int intent_record(struct app *app, struct http_req *req, struct http_resp *resp, const char *kind,
                  struct json_object *args, struct bt_err *err)
{
    const char *key = http_header(req, "Idempotency-Key");
    char w[24], c[24];
    const char *p[6] = {w, c, kind, NULL, key, req->request_id};
    PGresult *r;

    if (auth_company(req, err) != BT_OK)
        return BT_ERR;
    if (key && !key_ok(key)) {
        err_field(err, "Idempotency-Key", "invalid", "must be 1 to %d printable ASCII characters",
                  INTENT_KEY_MAX);
        return err_check_fields(err);
    }
    snprintf(w, sizeof(w), "%" PRId64, req->who.world_id);
    snprintf(c, sizeof(c), "%" PRId64, req->who.company_id);
    p[3] = json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN);
    r = db_exec(&app->db, req->arena, &q_intent_insert, 6, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) == 1) {
        answer(req, resp, db_i64(r, 0, 0), db_i64(r, 0, 1));
        return BT_OK;
    }
    if (!key)
        return err_set(err, 409, "conflict", "the company's world is not available");
    {
        const char *q[4] = {c, key, kind, p[3]};
        r = db_exec(&app->db, req->arena, &q_intent_by_key, 4, q, err);
    }
    if (!r)
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_internal(err, "idempotency key conflict without a row");
    if (!db_bool(r, 0, 2))
        return err_set(err, 422, "idempotency-key-reused",
                       "this Idempotency-Key was used for a different request");
    answer(req, resp, db_i64(r, 0, 0), db_i64(r, 0, 1));
    return BT_OK;
}
