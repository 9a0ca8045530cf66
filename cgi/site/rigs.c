/*
 * rigs.c - the mining actions and reads of the site service (see rigs.h).
 *
 * Every action is an intent: the handler authenticates, validates with the
 * rule table tickd applies again (lib/site.h), checks ownership (another
 * company's site is a 404, as if it did not exist), pre-checks against the
 * last committed state with the same pure rules tickd uses
 * (tickd/mining.h: mining_check_*, the catalog from tickd/mining_db.c) so a
 * request that cannot succeed fails fast with a 4xx, and records the
 * intent (202).  tickd's check at apply time is authoritative: intents
 * queued but not yet applied are not visible here.
 *
 * Reads compute a site's live figures from its committed rows: rigs online
 * (not failed, not in maintenance), their wear from the wear index of their
 * class, their nominal hashrate and facility power, and the energy cost of
 * one tick at the region's current spot price or the site's contract.
 */
#include "rigs.h"
#include "auth.h"
#include "intent.h"
#include "mining_db.h"
#include "site.h"
#include "valid.h"
#include "wparam.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RIGS_PAGE_MAX     200
#define RIGS_PAGE_DEFAULT 50

struct rig_row {
    int64_t id, count, failed, wear0, windex0, installed, maint_until, windex;
    int model, firmware;
};

/* A site of the caller as of the last committed tick. */
struct site_view {
    int64_t id, capacity_w, uptime_sum, ticks_run, uptime_tick, world_tick, spot, outage_until,
        tick_secs, cash;
    bool open; /* the company has a ledger account */
    int region, tier, cooling;
    int32_t slots;
    struct mining_contract contract;
    struct mining_catalog *cat;
    struct rig_row *rigs; /* by id */
    int nrigs;
    struct mining_site_use use;
};

DB_STMT(
    q_view_site,
    "SELECT s.region, s.grid_tier, s.cooling_type, s.capacity_w, s.slots, s.uptime_sum_ppm, "
    "s.ticks_run, s.uptime_tick, w.tick, coalesce(rs.energy_price_uusd, 0), "
    "coalesce(CASE s.grid_tier WHEN 1 THEN rs.outage_until_t1 WHEN 2 THEN rs.outage_until_t2 "
    "ELSE rs.outage_until_t3 END, 0), coalesce((SELECT value FROM world_params p WHERE "
    "p.world_id = s.world_id AND p.key = 'game_seconds_per_tick'), $3), "
    "(SELECT b.usd FROM company_balances($2) b) "
    "FROM sites s JOIN worlds w ON w.id = s.world_id LEFT JOIN region_state rs ON "
    "rs.world_id = s.world_id AND rs.region_id = s.region WHERE s.id = $1 AND s.company_id = $2");
DB_STMT(q_view_contract,
        "SELECT id, kind, price_uusd_kwh, capacity_w, start_tick, end_tick, threshold_uusd_kwh, "
        "credit_uusd_kwh FROM energy_contracts WHERE site_id = $1 AND status = 'active'");
DB_STMT(q_view_rigs,
        "SELECT g.id, g.model, g.firmware, g.count, g.failed, g.wear0_ppm, g.windex0, "
        "g.installed_tick, g.maint_until, coalesce(wi.value, 0) FROM site_rigs g JOIN sites s ON "
        "s.id = g.site_id LEFT JOIN mining_wear_index wi ON wi.world_id = s.world_id AND "
        "wi.region = s.region AND wi.cooling = s.cooling_type AND wi.firmware = g.firmware "
        "WHERE g.site_id = $1 ORDER BY g.id");

static int view_rigs(struct app *app, struct http_req *req, const char *id, struct site_view *v,
                     struct bt_err *err)
{
    const char *p[1] = {id};
    PGresult *r = db_exec(&app->db, req->arena, &q_view_rigs, 1, p, err);
    int i;

    if (!r)
        return BT_ERR;
    v->rigs = arena_zalloc(req->arena, (size_t)(PQntuples(r) + 1) * sizeof(*v->rigs));
    if (!v->rigs)
        return err_internal(err, "out of memory");
    for (i = 0; i < PQntuples(r); i++) {
        struct rig_row *g = &v->rigs[v->nrigs];
        g->model = mining_model_find(v->cat, db_str(r, i, 1));
        g->firmware = mining_firmware_parse(db_str(r, i, 2));
        if (g->model < 0 || g->firmware < 0)
            return err_internal(err, "rig group %s does not fit the catalog", db_str(r, i, 0));
        g->id = db_i64(r, i, 0);
        g->count = db_i64(r, i, 3);
        g->failed = db_i64(r, i, 4);
        g->wear0 = db_i64(r, i, 5);
        g->windex0 = db_i64(r, i, 6);
        g->installed = db_i64(r, i, 7);
        g->maint_until = db_i64(r, i, 8);
        g->windex = db_i64(r, i, 9);
        v->use.slots_used += g->count;
        v->use.power_w += mining_rig_power_w(v->cat, g->model, g->firmware, v->cooling, g->count);
        v->nrigs++;
    }
    return BT_OK;
}

/* Loads the caller's site `id` (digits) with its catalog, contract and rigs. */
static int view_load(struct app *app, struct http_req *req, const char *id, struct site_view *v,
                     struct bt_err *err)
{
    char c[24], secs[24];
    const char *p[3] = {id, c, secs};
    PGresult *r;

    memset(v, 0, sizeof(*v));
    if (auth_company(req, err) != BT_OK)
        return BT_ERR;
    if (!id || !*id || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id))
        return err_set(err, 404, "not-found", "no such site");
    snprintf(c, sizeof(c), "%" PRId64, req->who.company_id);
    snprintf(secs, sizeof(secs), "%" PRId64, wparam_defs[WP_GAME_SECONDS_PER_TICK].def);
    if (!(r = db_exec(&app->db, req->arena, &q_view_site, 3, p, err)))
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_set(err, 404, "not-found", "no such site");
    v->id = strtoll(id, NULL, 10);
    v->region = mining_region_parse(db_str(r, 0, 0));
    v->tier = (int)db_i64(r, 0, 1);
    v->cooling = mining_cooling_parse(db_str(r, 0, 2));
    if (v->region < 0 || v->cooling < 0 || v->tier < 1 || v->tier > MINING_NTIERS)
        return err_internal(err, "site %s does not fit the mining model", id);
    v->capacity_w = db_i64(r, 0, 3);
    v->slots = (int32_t)db_i64(r, 0, 4);
    v->uptime_sum = db_i64(r, 0, 5);
    v->ticks_run = db_i64(r, 0, 6);
    v->uptime_tick = db_i64(r, 0, 7);
    v->world_tick = db_i64(r, 0, 8);
    v->spot = db_i64(r, 0, 9);
    v->outage_until = db_i64(r, 0, 10);
    v->tick_secs = db_i64(r, 0, 11);
    v->open = !PQgetisnull(r, 0, 12);
    v->cash = v->open ? db_i64(r, 0, 12) : 0;
    if (!(v->cat = arena_alloc(req->arena, sizeof(*v->cat))) ||
        mining_catalog_load(&app->db, req->arena, v->cat, err) != BT_OK)
        return err_is_set(err) ? BT_ERR : err_internal(err, "out of memory");
    if (v->capacity_w <= 0 || v->slots <= 0) /* written by tickd in the tick that built it */
        mining_site_shape(v->cat, v->tier, v->cooling, &v->capacity_w, &v->slots);
    {
        const char *q[1] = {id};
        if (!(r = db_exec(&app->db, req->arena, &q_view_contract, 1, q, err)))
            return BT_ERR;
    }
    if (PQntuples(r) == 1) {
        int k = mining_contract_parse(db_str(r, 0, 1));
        v->contract = (struct mining_contract){
            db_i64(r, 0, 0), (uint8_t)(k < 0 ? 0 : k), db_i64(r, 0, 2), db_i64(r, 0, 3),
            db_i64(r, 0, 4), db_i64(r, 0, 5),          db_i64(r, 0, 6), db_i64(r, 0, 7)};
    }
    return view_rigs(app, req, id, v, err);
}

static int view_by_id(struct app *app, struct http_req *req, int64_t site_id, struct site_view *v,
                      struct bt_err *err)
{
    char id[24];

    snprintf(id, sizeof(id), "%" PRId64, site_id);
    return view_load(app, req, id, v, err);
}

static const struct rig_row *view_rig(const struct site_view *v, int64_t rig_id)
{
    for (int i = 0; i < v->nrigs; i++)
        if (v->rigs[i].id == rig_id)
            return &v->rigs[i];
    return NULL;
}

static int64_t rig_wear(const struct site_view *v, const struct rig_row *g)
{
    return mining_wear(v->cat, g->model, g->wear0, g->windex0, g->windex);
}

/* Rigs of g that run at the next tick (not failed, not in maintenance). */
static int64_t rig_online(const struct site_view *v, const struct rig_row *g)
{
    return v->world_tick + 1 < g->maint_until ? 0 : g->count - g->failed;
}

static int need_open(const struct site_view *v, struct bt_err *err)
{
    if (v->open)
        return BT_OK;
    return err_set(err, 409, "company-not-open",
                   "the company opens at the next tick; retry shortly");
}

static int no_rig(struct bt_err *err)
{
    return err_set(err, 404, "not-found", "no such rig group on this site");
}

/* ---- actions ---- */

int rigs_add(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct site_rig_add_in in = {0};
    struct site_view v;
    enum mining_reason why;
    int64_t cost;

    if (valid_object(req->json, site_rig_add_rules, &in, 0, err) != BT_OK ||
        view_by_id(app, req, in.site_id, &v, err) != BT_OK || need_open(&v, err) != BT_OK)
        return BT_ERR;
    why = mining_check_rig_add(v.cat, v.cooling, v.capacity_w, v.slots, &v.use, in.model, in.count,
                               v.cash, &cost);
    if (why != MINING_OK)
        return mining_reason_err(
            why, why == MINING_UNKNOWN_MODEL || why == MINING_RETIRED_MODEL ? "model" : "count",
            err);
    return intent_record(app, req, resp, "site.rig.add", req->json, err);
}

int rigs_remove(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct site_rig_remove_in in = {0};
    struct site_view v;
    const struct rig_row *g;

    if (valid_object(req->json, site_rig_remove_rules, &in, 0, err) != BT_OK ||
        view_by_id(app, req, in.site_id, &v, err) != BT_OK)
        return BT_ERR;
    if (!(g = view_rig(&v, in.rig_id)))
        return no_rig(err);
    if (in.count > g->count)
        return mining_reason_err(MINING_BAD_COUNT, "count", err);
    return intent_record(app, req, resp, "site.rig.remove", req->json, err);
}

int rigs_firmware(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct site_rig_firmware_in in = {0};
    struct site_view v;
    const struct rig_row *g;
    enum mining_reason why;

    if (valid_object(req->json, site_rig_firmware_rules, &in, 0, err) != BT_OK ||
        view_by_id(app, req, in.site_id, &v, err) != BT_OK)
        return BT_ERR;
    if (!(g = view_rig(&v, in.rig_id)))
        return no_rig(err);
    why = mining_check_firmware(v.cat, v.cooling, v.capacity_w, &v.use, g->model, g->count,
                                g->firmware, in.firmware);
    if (why != MINING_OK)
        return mining_reason_err(why, "firmware", err);
    return intent_record(app, req, resp, "site.rig.firmware", req->json, err);
}

int rigs_maintenance(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct bt_err *err)
{
    struct site_maintenance_in in = {0};
    struct site_view v;
    int64_t total = 0;
    int todo = 0;

    if (valid_object(req->json, site_maintenance_rules, &in, 0, err) != BT_OK ||
        view_by_id(app, req, in.site_id, &v, err) != BT_OK || need_open(&v, err) != BT_OK)
        return BT_ERR;
    if (in.rig_id && !view_rig(&v, in.rig_id))
        return no_rig(err);
    for (int i = 0; i < v.nrigs; i++) {
        const struct rig_row *g = &v.rigs[i];
        int64_t cost;
        if ((in.rig_id && g->id != in.rig_id) ||
            mining_check_maintenance(v.cat, g->model, g->count, g->failed, rig_wear(&v, g),
                                     INT64_MAX, &cost) != MINING_OK)
            continue;
        total += cost;
        todo++;
    }
    if (todo == 0)
        return mining_reason_err(MINING_NOTHING_TO_DO, "rig_id", err);
    if (total > v.cash)
        return mining_reason_err(MINING_NO_CASH, "rig_id", err);
    return intent_record(app, req, resp, "site.maintenance", req->json, err);
}

int rigs_contract(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct site_contract_in in = {0};
    struct site_view v;
    struct mining_contract c;
    enum mining_reason why;

    if (valid_object(req->json, site_contract_rules, &in, 0, err) != BT_OK ||
        view_by_id(app, req, in.site_id, &v, err) != BT_OK)
        return BT_ERR;
    why = mining_contract_quote(v.cat, in.kind, v.spot > 0 ? v.spot : 1, v.capacity_w,
                                v.world_tick + 1, in.ticks, &c);
    if (why != MINING_OK)
        return mining_reason_err(why, "ticks", err);
    return intent_record(app, req, resp, "site.energy.contract", req->json, err);
}

int rigs_cancel(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct site_cancel_in in = {0};
    struct site_view v;

    if (valid_object(req->json, site_cancel_rules, &in, 0, err) != BT_OK ||
        view_by_id(app, req, in.site_id, &v, err) != BT_OK)
        return BT_ERR;
    if (!v.contract.id || v.contract.end_tick <= v.world_tick + 1)
        return mining_reason_err(MINING_NOTHING_TO_DO, "site_id", err);
    return intent_record(app, req, resp, "site.energy.cancel", req->json, err);
}

/* ---- reads ---- */

static void put(struct json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}

static struct json_object *rig_json(const struct site_view *v, const struct rig_row *g)
{
    struct json_object *o = json_object_new_object();
    int64_t online = rig_online(v, g), wear = rig_wear(v, g), hash, power;

    mining_rig_nominal(v->cat, g->model, g->firmware, v->cooling, online, wear, &hash, &power);
    put(o, "id", g->id);
    json_object_object_add(o, "model", json_object_new_string(v->cat->models[g->model].id));
    json_object_object_add(o, "firmware",
                           json_object_new_string(mining_firmware_name(g->firmware)));
    put(o, "count", g->count);
    put(o, "failed", g->failed);
    put(o, "online", online);
    put(o, "wear_ppm", wear);
    put(o, "hashrate_ghs", hash);
    put(o, "power_w", power);
    put(o, "installed_tick", g->installed);
    put(o, "maintenance_until_tick", g->maint_until);
    return o;
}

static struct json_object *contract_json(const struct mining_contract *c)
{
    struct json_object *o;

    if (!c->id)
        return NULL;
    o = json_object_new_object();
    put(o, "id", c->id);
    json_object_object_add(o, "kind", json_object_new_string(mining_contract_name(c->kind)));
    put(o, "price_usd_micro_kwh", c->price_uusd_kwh);
    put(o, "capacity_w", c->capacity_w);
    put(o, "start_tick", c->start_tick);
    put(o, "end_tick", c->end_tick);
    if (c->kind == MINING_DEMAND_RESPONSE) {
        put(o, "threshold_usd_micro_kwh", c->threshold_uusd_kwh);
        put(o, "credit_usd_micro_kwh", c->credit_uusd_kwh);
    }
    return o;
}

int rigs_site_view(struct app *app, struct http_req *req, const char *site_id,
                   struct json_object *o, struct bt_err *err)
{
    struct site_view v;
    struct json_object *rigs;
    int64_t count = 0, failed = 0, maint = 0, online = 0, hash = 0, power = 0, gap;
    bool outage;

    if (view_load(app, req, site_id, &v, err) != BT_OK)
        return BT_ERR;
    for (int i = 0; i < v.nrigs; i++) {
        const struct rig_row *g = &v.rigs[i];
        int64_t h, p, on = rig_online(&v, g);
        mining_rig_nominal(v.cat, g->model, g->firmware, v.cooling, on, rig_wear(&v, g), &h, &p);
        count += g->count;
        failed += g->failed;
        maint += v.world_tick + 1 < g->maint_until ? g->count : 0;
        online += on;
        hash += h;
        power += p;
    }
    /* Grid capacity caps what the site draws (the step scales hashrate down). */
    if (power > v.capacity_w) {
        hash = (int64_t)((__int128)hash * v.capacity_w / power);
        power = v.capacity_w;
    }
    outage = v.outage_until > v.world_tick;
    gap = v.uptime_tick > 0 ? v.world_tick - v.uptime_tick : 0;
    put(o, "capacity_w", v.capacity_w);
    put(o, "slots", v.slots);
    put(o, "slots_used", v.use.slots_used);
    put(o, "power_committed_w", v.use.power_w);
    rigs = json_object_new_object();
    put(rigs, "groups", v.nrigs);
    put(rigs, "count", count);
    put(rigs, "online", online);
    put(rigs, "failed", failed);
    put(rigs, "in_maintenance", maint);
    json_object_object_add(o, "rigs", rigs);
    json_object_object_add(o, "contract", contract_json(&v.contract));
    json_object_object_add(o, "outage", json_object_new_boolean(outage));
    json_object_object_add(
        o, "uptime_ppm",
        v.ticks_run + gap > 0
            ? json_object_new_int64((v.uptime_sum + gap * MINING_PPM) / (v.ticks_run + gap))
            : NULL);
    put(o, "hashrate_ghs", outage ? 0 : hash);
    put(o, "power_w", outage ? 0 : power);
    put(o, "spot_usd_micro_kwh", v.spot);
    put(o, "energy_cost_per_tick_usd_micro",
        outage ? 0
               : mining_energy_estimate(&v.contract, v.world_tick + 1, v.spot, power, v.tick_secs));
    put(o, "as_of_tick", v.world_tick);
    return BT_OK;
}

struct page_in {
    int64_t limit, after;
};

static const struct valid_rule page_rules[] = {
    VINT(struct page_in, limit, 0, 1, RIGS_PAGE_MAX),
    VINT(struct page_in, after, 0, 0, INT64_MAX),
    VALID_END,
};

int rigs_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct page_in in = {RIGS_PAGE_DEFAULT, 0};
    struct site_view v;
    struct json_object *o, *items;
    int n = 0, i;

    if (valid_query(req, page_rules, &in, err) != BT_OK ||
        view_load(app, req, http_param(req, "id"), &v, err) != BT_OK)
        return BT_ERR;
    items = json_object_new_array();
    for (i = 0; i < v.nrigs && n < in.limit; i++) {
        if (v.rigs[i].id <= in.after)
            continue;
        json_object_array_add(items, rig_json(&v, &v.rigs[i]));
        n++;
    }
    o = json_object_new_object();
    json_object_object_add(o, "items", items);
    json_object_object_add(o, "next_after",
                           n == in.limit && i < v.nrigs ? json_object_new_int64(v.rigs[i - 1].id)
                                                        : NULL);
    http_resp_json(resp, 200, o);
    return BT_OK;
}

DB_STMT(q_catalog,
        "SELECT json_build_object("
        "'models', (SELECT json_agg(json_build_object('id', id, 'name', name, 'year', year, "
        "'hash_ghs', hash_ghs, 'power_w', power_w, 'efficiency_j_th', efficiency_j_th::text, "
        "'price_usd_micro', price_uusd, 'lifetime_days', lifetime_days, 'afr_ppm', afr_ppm, "
        "'cooling', cooling, 'available', available) ORDER BY position) FROM rig_models), "
        "'cooling_types', (SELECT json_agg(json_build_object('id', id, 'pue_ppm', pue_ppm, "
        "'wear_ppm', wear_ppm, 'hazard_ppm', hazard_ppm, 'heat_sens_ppm', heat_sens_ppm, "
        "'overclock_headroom_ppm', oc_headroom_ppm, 'slots_per_mw', slots_per_mw) ORDER BY id) "
        "FROM cooling_types), "
        "'grid_tiers', (SELECT json_agg(json_build_object('tier', tier, 'capacity_kw', "
        "capacity_kw, 'outage_mult_ppm', outage_mult_ppm) ORDER BY tier) FROM grid_tiers), "
        "'contract_kinds', (SELECT json_agg(json_build_object('id', id, 'price_ppm', price_ppm, "
        "'threshold_ppm', threshold_ppm, 'credit_ppm', credit_ppm, 'min_ticks', min_ticks, "
        "'max_ticks', max_ticks) ORDER BY id) FROM energy_contract_kinds WHERE id <> 'spot'), "
        "'site_cost_parts', (SELECT json_agg(json_build_object('part', part, 'value', value, "
        "'usd_micro', usd_micro) ORDER BY part, value) FROM site_cost_parts))::text");

int rigs_catalog(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    PGresult *r = db_exec(&app->db, req->arena, &q_catalog, 0, NULL, err);
    struct json_object *o;

    if (!r)
        return BT_ERR;
    if (!(o = json_tokener_parse(db_str(r, 0, 0))))
        return err_internal(err, "catalog is not JSON");
    http_resp_json(resp, 200, o);
    return BT_OK;
}
