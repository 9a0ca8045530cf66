/*
 * cgi/admin/rigs.c - the rig catalog, tuned live.
 *
 *   PATCH /api/admin/rigs/:id   {price_usd_micro?, available?}
 *
 * One statement changes the model and bumps catalog_version (0015); every
 * world's tickd sees the new version at its next tick, reloads the catalog
 * in that tick and logs it for replays, so a price or a withdrawal from
 * sale applies at one tick in every world and never half-way through one.
 * The catalog itself is read with GET /rigs/catalog.  Models are appended
 * by migrations and never deleted; here only what does not change the
 * installed rigs can change: the price of new units and whether they are
 * sold (installed rigs of a withdrawn model keep running).
 */
#include "rigs.h"
#include "log.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* One million USD per rig, in micro-USD: price x MINING_MAX_COUNT rigs and
 * price x a ppm rate (maintenance) stay far inside int64. */
#define PRICE_MAX 1000000000000LL

struct rig_in {
    int64_t price_usd_micro;
    bool available;
};

static const struct valid_rule rig_rules[] = {
    VINT(struct rig_in, price_usd_micro, 0, 0, PRICE_MAX),
    VBOOL(struct rig_in, available, 0),
    VALID_END,
};

DB_STMT(q_rig_patch,
        "WITH u AS (UPDATE rig_models SET price_uusd = COALESCE($2::bigint, price_uusd), "
        "available = COALESCE($3::bool, available) WHERE id = $1 RETURNING id, name, "
        "price_uusd, available), v AS (UPDATE catalog_version SET version = version + 1 "
        "WHERE EXISTS (SELECT 1 FROM u) RETURNING version) "
        "SELECT u.id, u.name, u.price_uusd, u.available, v.version FROM u, v");

int rigs_patch(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const char *id = http_param(req, "id");
    struct rig_in in = {0, false};
    bool has_price = json_object_object_get_ex(req->json, "price_usd_micro", NULL),
         has_avail = json_object_object_get_ex(req->json, "available", NULL);
    char price[24];
    const char *p[3] = {id, has_price ? price : NULL, NULL};
    struct json_object *o;
    PGresult *r;

    if (!id || strlen(id) < 1 || strlen(id) > 23 ||
        strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(id))
        return err_set(err, 404, "not-found", "no such rig model");
    if (valid_object(req->json, rig_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    if (!has_price && !has_avail)
        return err_set(err, 400, "validation", "give price_usd_micro or available");
    snprintf(price, sizeof(price), "%" PRId64, in.price_usd_micro);
    if (has_avail)
        p[2] = in.available ? "true" : "false";
    if (!(r = db_exec(&app->db, req->arena, &q_rig_patch, 3, p, err)))
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_set(err, 404, "not-found", "no such rig model");
    log_msg(LOGL_INFO, req->request_id,
            "admin %" PRId64 " set rig model %s: price_usd_micro %s available %s (catalog "
            "version %s)",
            req->who.user_id, id, db_str(r, 0, 2), db_str(r, 0, 3), db_str(r, 0, 4));
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(db_str(r, 0, 0)));
    json_object_object_add(o, "name", json_object_new_string(db_str(r, 0, 1)));
    json_object_object_add(o, "price_usd_micro", json_object_new_int64(db_i64(r, 0, 2)));
    json_object_object_add(o, "available", json_object_new_boolean(db_bool(r, 0, 3)));
    json_object_object_add(o, "catalog_version", json_object_new_int64(db_i64(r, 0, 4)));
    http_resp_json(resp, 200, o);
    return BT_OK;
}
