/*
 * cgi/admin/params.c - a world's live simulation parameters and shocks.
 *
 *   GET   /api/admin/worlds/:id/params   every parameter: value, default, range
 *   PATCH /api/admin/worlds/:id/params   {key: value, ...} validated against the C
 *                                        table (lib/wparam.c); one transaction that
 *                                        upserts world_params and bumps
 *                                        worlds.params_version, which tickd checks at
 *                                        every tick: the change applies at the next one
 *   POST  /api/admin/worlds/:id/shock    {kind:"price", pct_bp} or
 *                                        {kind:"event", type, region}: queued in
 *                                        world_shocks (202); tickd applies it at the
 *                                        next tick and stamps applied_tick
 *
 * This room never touches simulation state itself: tickd is its only writer.
 */
#include "params.h"
#include "log.h"
#include "valid.h"
#include "wevent.h"
#include "wparam.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNSET INT64_MIN

DB_STMT(q_params_get, "SELECT w.params_version, p.key, p.value FROM worlds w "
                      "LEFT JOIN world_params p ON p.world_id = w.id WHERE w.id = $1");
DB_STMT(q_params_lock, "SELECT params_version FROM worlds WHERE id = $1 FOR UPDATE");
DB_STMT(q_params_upsert,
        "INSERT INTO world_params (world_id, key, value, updated_by) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (world_id, key) DO UPDATE SET value = $3, updated_at = now(), "
        "updated_by = $4");
DB_STMT(q_params_bump, "UPDATE worlds SET params_version = params_version + 1 WHERE id = $1");
DB_STMT(q_shock_refs, "SELECT EXISTS (SELECT 1 FROM worlds WHERE id = $1), "
                      "$2::text IS NULL OR EXISTS (SELECT 1 FROM regions WHERE id = $2)");
DB_STMT(q_shock_new, "INSERT INTO world_shocks (world_id, kind, pct_bp, event_type, region, "
                     "created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at");

static const char *world_param(const struct http_req *req, struct bt_err *err)
{
    const char *id = http_param(req, "id");

    if (!id || !id[0] || strspn(id, "0123456789") != strlen(id) || strlen(id) > 18) {
        err_set(err, 404, "not-found", "no such world");
        return NULL;
    }
    return id;
}

/* Current values (defaults overlaid with the world's rows); BT_ERR with a
 * 404 when the world does not exist. */
static int current(struct app *app, struct http_req *req, const char *id, int64_t *values,
                   bool *overridden, int64_t *version, struct bt_err *err)
{
    PGresult *r = db_exec(&app->db, req->arena, &q_params_get, 1, (const char *[]){id}, err);
    int i;

    if (!r)
        return BT_ERR;
    if (PQntuples(r) == 0)
        return err_set(err, 404, "not-found", "no such world");
    for (i = 0; i < WP_COUNT; i++) {
        values[i] = wparam_defs[i].def;
        overridden[i] = false;
    }
    *version = db_i64(r, 0, 0);
    for (i = 0; i < PQntuples(r); i++) {
        int k = db_str(r, i, 1) ? wparam_find(db_str(r, i, 1)) : -1;
        if (k >= 0) {
            values[k] = db_i64(r, i, 2);
            overridden[k] = true;
        }
    }
    return BT_OK;
}

static int answer(struct app *app, struct http_req *req, struct http_resp *resp, const char *id,
                  struct bt_err *err)
{
    int64_t values[WP_COUNT], version;
    bool over[WP_COUNT];
    struct json_object *o, *list;
    int i;

    if (current(app, req, id, values, over, &version, err) != BT_OK)
        return BT_ERR;
    o = json_object_new_object();
    json_object_object_add(o, "world", json_object_new_int64(strtoll(id, NULL, 10)));
    json_object_object_add(o, "version", json_object_new_int64(version));
    list = json_object_new_array();
    for (i = 0; i < WP_COUNT; i++) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "key", json_object_new_string(wparam_defs[i].key));
        json_object_object_add(p, "value", json_object_new_int64(values[i]));
        json_object_object_add(p, "default", json_object_new_int64(wparam_defs[i].def));
        json_object_object_add(p, "min", json_object_new_int64(wparam_defs[i].min));
        json_object_object_add(p, "max", json_object_new_int64(wparam_defs[i].max));
        json_object_object_add(p, "overridden", json_object_new_boolean(over[i]));
        json_object_object_add(p, "description", json_object_new_string(wparam_defs[i].help));
        json_object_array_add(list, p);
    }
    json_object_object_add(o, "params", list);
    http_resp_json(resp, 200, o);
    return BT_OK;
}

int params_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const char *id = world_param(req, err);

    return id ? answer(app, req, resp, id, err) : BT_ERR;
}

/* The validator table for a PATCH, built from the parameter table: each
 * key is an optional integer within its range, anything else is unknown. */
static void patch_rules(struct valid_rule *rules)
{
    int i;

    for (i = 0; i < WP_COUNT; i++)
        rules[i] = (struct valid_rule){wparam_defs[i].key,
                                       VT_INT,
                                       0,
                                       (size_t)i * sizeof(int64_t),
                                       wparam_defs[i].min,
                                       wparam_defs[i].max,
                                       NULL,
                                       0,
                                       0};
    rules[WP_COUNT] = (struct valid_rule)VALID_END;
}

int params_patch(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct valid_rule rules[WP_COUNT + 1];
    int64_t in[WP_COUNT], values[WP_COUNT], version;
    bool over[WP_COUNT];
    const char *id = world_param(req, err), *who;
    int i, n = 0;

    if (!id)
        return BT_ERR;
    patch_rules(rules);
    for (i = 0; i < WP_COUNT; i++)
        in[i] = UNSET;
    if (valid_object(req->json, rules, in, 0, err) != BT_OK)
        return BT_ERR;
    for (i = 0; i < WP_COUNT; i++)
        n += in[i] != UNSET;
    if (n == 0)
        return err_set(err, 400, "validation", "give at least one parameter to change");
    who = arena_printf(req->arena, "%" PRId64, req->who.user_id);
    if (db_begin(&app->db, err) != BT_OK)
        return BT_ERR;
    if (!db_exec(&app->db, req->arena, &q_params_lock, 1, (const char *[]){id}, err) ||
        current(app, req, id, values, over, &version, err) != BT_OK)
        goto fail;
    for (i = 0; i < WP_COUNT; i++)
        if (in[i] != UNSET)
            values[i] = in[i];
    if (values[WP_GARCH_ALPHA_PPM] + values[WP_GARCH_BETA_PPM] >= 1000000) {
        err_field(err, in[WP_GARCH_BETA_PPM] != UNSET ? "garch_beta_ppm" : "garch_alpha_ppm",
                  "range", "garch_alpha_ppm + garch_beta_ppm must stay below 1000000");
        err_check_fields(err);
        goto fail;
    }
    for (i = 0; i < WP_COUNT; i++) {
        const char *p[4] = {id, wparam_defs[i].key, NULL, who};
        if (in[i] == UNSET)
            continue;
        p[2] = arena_printf(req->arena, "%" PRId64, in[i]);
        if (!db_exec(&app->db, req->arena, &q_params_upsert, 4, p, err))
            goto fail;
    }
    if (!db_exec(&app->db, req->arena, &q_params_bump, 1, (const char *[]){id}, err) ||
        db_commit(&app->db, err) != BT_OK)
        goto fail;
    log_msg(LOGL_INFO, req->request_id, "admin %" PRId64 " changed %d parameter(s) of world %s",
            req->who.user_id, n, id);
    return answer(app, req, resp, id, err);
fail:
    db_rollback(&app->db);
    return BT_ERR;
}

struct shock_in {
    const char *kind;
    int64_t pct_bp;
    const char *type;
    const char *region;
};

static const char *const shock_kinds[] = {"price", "event", NULL};

static const struct valid_rule shock_rules[] = {
    VENUM(struct shock_in, kind, VF_REQUIRED, shock_kinds),
    VINT(struct shock_in, pct_bp, 0, -9000, 10000),
    VENUM(struct shock_in, type, 0, wevent_names),
    VSTR(struct shock_in, region, VF_PRINTABLE, 1, 32),
    VALID_END,
};

/* The fields each kind needs or refuses (after the per-field rules). */
static void shock_shape(struct http_req *req, const struct shock_in *in, struct bt_err *err)
{
    bool has_pct = json_object_object_get_ex(req->json, "pct_bp", NULL);

    if (strcmp(in->kind, "price") == 0) {
        if (!has_pct)
            err_field(err, "pct_bp", "required", "is required for a price shock");
        else if (in->pct_bp == 0)
            err_field(err, "pct_bp", "range", "must not be 0");
        if (in->type)
            err_field(err, "type", "not_allowed", "only for an event shock");
        if (in->region)
            err_field(err, "region", "not_allowed", "only for an event shock");
        return;
    }
    if (has_pct)
        err_field(err, "pct_bp", "not_allowed", "only for a price shock");
    if (!in->type) {
        err_field(err, "type", "required", "is required for an event shock");
        return;
    }
    if (wevent_regional(wevent_find(in->type)) && !in->region)
        err_field(err, "region", "required", "is required for a %s", in->type);
    if (!wevent_regional(wevent_find(in->type)) && in->region)
        err_field(err, "region", "not_allowed", "a %s is global", in->type);
}

int params_shock(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct shock_in in = {NULL, 0, NULL, NULL};
    const char *id = world_param(req, err), *p[6];
    struct json_object *o;
    PGresult *r;

    if (!id)
        return BT_ERR;
    if (valid_object(req->json, shock_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    shock_shape(req, &in, err);
    if (err_check_fields(err) != BT_OK)
        return BT_ERR;
    r = db_exec(&app->db, req->arena, &q_shock_refs, 2, (const char *[]){id, in.region}, err);
    if (!r)
        return BT_ERR;
    if (!db_bool(r, 0, 0))
        return err_set(err, 404, "not-found", "no such world");
    if (!db_bool(r, 0, 1)) {
        err_field(err, "region", "unknown", "is not a region id");
        return err_check_fields(err);
    }
    p[0] = id;
    p[1] = in.kind;
    p[2] = strcmp(in.kind, "price") == 0 ? arena_printf(req->arena, "%" PRId64, in.pct_bp) : NULL;
    p[3] = in.type;
    p[4] = in.region;
    p[5] = arena_printf(req->arena, "%" PRId64, req->who.user_id);
    if (!(r = db_exec(&app->db, req->arena, &q_shock_new, 6, p, err)))
        return BT_ERR;
    log_msg(LOGL_INFO, req->request_id, "admin %" PRId64 " queued a %s shock on world %s",
            req->who.user_id, in.kind, id);
    o = json_object_new_object();
    json_object_object_add(o, "shock_id", json_object_new_int64(db_i64(r, 0, 0)));
    json_object_object_add(o, "status", json_object_new_string("queued"));
    json_object_object_add(o, "kind", json_object_new_string(in.kind));
    json_object_object_add(o, "created_at", json_object_new_string(db_str(r, 0, 1)));
    http_resp_json(resp, 202, o);
    return BT_OK;
}
