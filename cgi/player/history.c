/*
 * history.c - GET /player/me/history?from=&to=: the caller's per-tick
 * mining results (hashrate, BTC mined, energy used and paid, demand-response
 * credit, uptime, throttling, failures) as the mining phase stored them in
 * mining_history_buckets.  A tick without a row is a tick with nothing to report
 * (all zero).  Ranges are bounded (HISTORY_MAX_TICKS); without `to` the
 * range ends at the world's last committed tick, without `from` it spans
 * HISTORY_DEFAULT_TICKS.
 */
#include "app.h"
#include "auth.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#define HISTORY_MAX_TICKS     1000
#define HISTORY_DEFAULT_TICKS 100

int get_player_history(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err);

struct history_in {
    int64_t from, to;
};

static const struct valid_rule history_rules[] = {
    VINT(struct history_in, from, 0, 0, INT64_MAX / 2),
    VINT(struct history_in, to, 0, 0, INT64_MAX / 2),
    VALID_END,
};

DB_STMT(q_world_tick, "SELECT w.tick FROM companies c JOIN worlds w ON w.id = c.world_id "
                      "WHERE c.id = $1");
/* The company's element of its bucket's rows (0018), the range's ticks
 * looked up one by one (at most HISTORY_MAX_TICKS index descents). */
DB_STMT(q_history,
        "SELECT m.tick, m.hash_ghs[s.k], m.mined_sat[s.k], m.energy_wh[s.k], m.energy_uusd[s.k], "
        "m.credit_uusd[s.k], m.uptime_ppm[s.k], m.throttle_ppm[s.k], m.failures[s.k] FROM "
        "(SELECT ($1::bigint % mining_bucket_size() + 1)::integer AS k) s, "
        "mining_history_buckets m WHERE m.world_id = (SELECT world_id FROM companies WHERE id = "
        "$1) AND m.bucket = $1 / mining_bucket_size() AND m.tick = ANY (ARRAY(SELECT "
        "generate_series($2::bigint, $3::bigint))) AND m.hash_ghs[s.k] IS NOT NULL ORDER BY "
        "m.tick");

static const char *const history_cols[] = {
    "tick",       "hashrate_ghs",          "mined_sat",
    "energy_wh",  "energy_paid_usd_micro", "credit_usd_micro",
    "uptime_ppm", "throttle_ppm",          "failures",
};

int get_player_history(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err)
{
    struct history_in in = {-1, -1};
    char c[24], f[24], t[24];
    const char *p[3] = {c, f, t};
    struct json_object *o, *items;
    PGresult *r;
    int i;

    if (auth_company(req, err) != BT_OK)
        return BT_ERR;
    if (valid_query(req, history_rules, &in, err) != BT_OK)
        return BT_ERR;
    snprintf(c, sizeof(c), "%" PRId64, req->who.company_id);
    if (in.to < 0) {
        if (!(r = db_exec(&app->db, req->arena, &q_world_tick, 1, p, err)))
            return BT_ERR;
        in.to = PQntuples(r) == 1 ? db_i64(r, 0, 0) : 0;
    }
    if (in.from < 0)
        in.from = in.to >= HISTORY_DEFAULT_TICKS ? in.to - HISTORY_DEFAULT_TICKS + 1 : 0;
    if (in.from > in.to)
        err_field(err, "from", "range", "must not be after to");
    else if (in.to - in.from >= HISTORY_MAX_TICKS)
        err_field(err, "to", "range", "a range spans at most %d ticks", HISTORY_MAX_TICKS);
    if (err_check_fields(err) != BT_OK)
        return BT_ERR;
    snprintf(f, sizeof(f), "%" PRId64, in.from);
    snprintf(t, sizeof(t), "%" PRId64, in.to);
    if (!(r = db_exec(&app->db, req->arena, &q_history, 3, p, err)))
        return BT_ERR;
    items = json_object_new_array_ext(PQntuples(r));
    for (i = 0; i < PQntuples(r); i++) {
        struct json_object *row = json_object_new_object();
        for (int k = 0; k < (int)BT_ARRAY_LEN(history_cols); k++)
            json_object_object_add(row, history_cols[k], json_object_new_int64(db_i64(r, i, k)));
        json_object_array_add(items, row);
    }
    o = json_object_new_object();
    json_object_object_add(o, "from", json_object_new_int64(in.from));
    json_object_object_add(o, "to", json_object_new_int64(in.to));
    json_object_object_add(o, "items", items);
    http_resp_json(resp, 200, o);
    return BT_OK;
}
