/*
 * sites.c - building and reading mining sites (see sites.h).
 *
 * POST /site/create validates with the same rule table tickd applies
 * (lib/site.h), pre-checks affordability against the last committed
 * balance to fail fast with a 4xx, and records a site.create intent; the
 * site exists once tickd applied it (authoritative price and balance
 * check).  Reads return only the caller's sites: another company's site is
 * a 404, like one that does not exist; GET /site/:id adds the mining view
 * (rigs.c).
 */
#include "sites.h"
#include "auth.h"
#include "intent.h"
#include "rigs.h"
#include "site.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define SITE_COLS "id, region, grid_tier, cooling_type, name, build_cost, created_tick"

DB_STMT(q_site_precheck,
        "SELECT (SELECT sum(usd_micro) FROM site_cost_parts WHERE (part, value) IN "
        "(('region', $2), ('grid_tier', $3), ('cooling_type', $4))), "
        "(SELECT count(*) FROM site_cost_parts WHERE (part, value) IN "
        "(('region', $2), ('grid_tier', $3), ('cooling_type', $4))), "
        "(SELECT b.usd FROM company_balances($1) b), "
        "(SELECT count(*) FROM sites WHERE company_id = $1)");
DB_STMT(q_site_list,
        "SELECT " SITE_COLS " FROM sites WHERE company_id = $1 ORDER BY id LIMIT 1000");
DB_STMT(q_site_get, "SELECT " SITE_COLS " FROM sites WHERE id = $1 AND company_id = $2");

static struct json_object *site_json(const PGresult *r, int i)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_int64(db_i64(r, i, 0)));
    json_object_object_add(o, "region", json_object_new_string(db_str(r, i, 1)));
    json_object_object_add(o, "grid_tier", json_object_new_int64(db_i64(r, i, 2)));
    json_object_object_add(o, "cooling_type", json_object_new_string(db_str(r, i, 3)));
    json_object_object_add(o, "name", json_object_new_string(db_str(r, i, 4)));
    json_object_object_add(o, "build_cost_usd_micro", json_object_new_int64(db_i64(r, i, 5)));
    json_object_object_add(o, "created_tick", json_object_new_int64(db_i64(r, i, 6)));
    return o;
}

int sites_create(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct site_create_in in = {0};
    char c[24], tier[8];
    const char *p[4] = {c, NULL, tier, NULL};
    PGresult *r;

    if (auth_company(req, err) != BT_OK)
        return BT_ERR;
    if (valid_object(req->json, site_create_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    snprintf(c, sizeof(c), "%" PRId64, req->who.company_id);
    snprintf(tier, sizeof(tier), "%" PRId64, in.grid_tier);
    p[1] = in.region;
    p[3] = in.cooling_type;
    r = db_exec(&app->db, req->arena, &q_site_precheck, 4, p, err);
    if (!r)
        return BT_ERR;
    if (db_i64(r, 0, 1) != 3)
        return err_set(err, 422, "unpriced", "this site has no build price");
    if (!db_str(r, 0, 2))
        return err_set(err, 409, "company-not-open",
                       "the company opens at the next tick; retry shortly");
    if (db_i64(r, 0, 3) >= SITE_MAX_PER_COMPANY)
        return err_set(err, 422, "limit-reached", "a company may own at most %d sites",
                       SITE_MAX_PER_COMPANY);
    if (db_i64(r, 0, 0) > db_i64(r, 0, 2))
        return err_set(err, 422, "insufficient-funds",
                       "the site costs %lld micro-USD; the balance is %lld", db_i64(r, 0, 0),
                       db_i64(r, 0, 2));
    return intent_record(app, req, resp, "site.create", req->json, err);
}

int sites_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    char c[24];
    const char *p[1] = {c};
    struct json_object *arr;
    PGresult *r;
    int i;

    if (auth_company(req, err) != BT_OK)
        return BT_ERR;
    snprintf(c, sizeof(c), "%" PRId64, req->who.company_id);
    r = db_exec(&app->db, req->arena, &q_site_list, 1, p, err);
    if (!r)
        return BT_ERR;
    arr = json_object_new_array();
    for (i = 0; i < PQntuples(r); i++)
        json_object_array_add(arr, site_json(r, i));
    http_resp_json(resp, 200, arr);
    return BT_OK;
}

int sites_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const char *id = http_param(req, "id");
    char c[24];
    const char *p[2] = {id, c};
    struct json_object *o;
    PGresult *r;

    if (auth_company(req, err) != BT_OK)
        return BT_ERR;
    if (!id || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id))
        return err_set(err, 404, "not-found", "no such site");
    snprintf(c, sizeof(c), "%" PRId64, req->who.company_id);
    r = db_exec(&app->db, req->arena, &q_site_get, 2, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_set(err, 404, "not-found", "no such site");
    o = site_json(r, 0);
    if (rigs_site_view(app, req, id, o, err) != BT_OK) {
        json_object_put(o);
        return BT_ERR;
    }
    http_resp_json(resp, 200, o);
    return BT_OK;
}
