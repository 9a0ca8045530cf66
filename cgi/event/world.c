/*
 * cgi/event/world.c - what players read about their world: the market and
 * network figures, the six regions, and world events.
 *
 *   GET /world                                price, difficulty, hashrate, height, subsidy,
 *                                             game time of the caller's world
 *   GET /regions                              the regions with live energy price, outage
 *                                             state by grid tier, climate and active events
 *   GET /events?active=&region=&limit=  events, newest first
 *   GET /world/history?from=&to=&step=  per-tick figures for charts (world_ticks):
 *                                       ticks from..to (default: the last 288),
 *                                       every step-th tick, at most 2000 points
 *
 * The caller's world is the token's wid (the default world when it has
 * none).  Each answer is one query over rows tickd rewrites every tick
 * (world_state, region_state, events, world_ticks); nothing here writes.
 */
#include "world.h"
#include "valid.h"
#include "wparam.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define EVENTS_DEFAULT_LIMIT 50
#define EVENTS_MAX_LIMIT     200
#define HISTORY_DEFAULT_SPAN 288 /* two game days at 10 game minutes per tick */
#define HISTORY_MAX_POINTS   2000

/* $1 = the token's world id, 0 for the default world. */
#define WORLD_OF_CALLER                                                                            \
    "(SELECT id FROM worlds WHERE id = CASE WHEN $1::bigint > 0 THEN $1::bigint ELSE "             \
    "(SELECT id FROM worlds WHERE is_default) END)"

DB_STMT(
    q_world_get,
    "SELECT w.name, "
    "to_char(to_timestamp(s.game_time_s) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "w.id AS world, w.tick, w.tick_ms, s.game_time_s, COALESCE((SELECT value FROM world_params "
    "p WHERE p.world_id = w.id AND p.key = $2), $3::bigint) AS game_seconds_per_tick, "
    "s.price_uusd, s.price_prev_uusd, s.difficulty, s.network_hashrate_ths AS hashrate_ths, "
    "s.row_hashrate_ths AS rest_of_world_hashrate_ths, "
    "s.player_hashrate_ths AS players_hashrate_ths, s.height, s.subsidy_sats, "
    "s.block_fees_sats, s.fee_share_bp, s.blocks_last_tick, "
    "s.epoch_start_height + 2016 AS next_retarget_height "
    "FROM worlds w JOIN world_state s ON s.world_id = w.id WHERE w.id = " WORLD_OF_CALLER);
DB_STMT(
    q_world_regions,
    "SELECT r.id, r.name, r.climate, r.arid, r.base_price_uusd, r.price_cap_uusd, "
    "r.grid_reliability_bp, r.utc_offset_min, s.energy_price_uusd, s.demand_bp, "
    "s.temp_mc, s.dust_bp, s.cooling_load_bp, s.outage_until_t1 > w.tick, "
    "s.outage_until_t2 > w.tick, s.outage_until_t3 > w.tick, "
    "COALESCE((SELECT json_agg(json_build_object('id', e.id, 'type', e.type, 'severity', "
    "e.severity, 'magnitude', e.magnitude, 'start_tick', e.start_tick, 'resolution_tick', "
    "e.resolution_tick) ORDER BY e.id) FROM events e WHERE e.world_id = w.id AND "
    "e.region = r.id AND e.resolution_tick > w.tick), '[]')::text, w.id, w.tick "
    "FROM worlds w JOIN region_state s ON s.world_id = w.id JOIN regions r ON r.id = s.region_id "
    "WHERE w.id = " WORLD_OF_CALLER " ORDER BY r.id");
DB_STMT(q_world_events,
        "SELECT e.type, e.region, e.payload::text, e.resolution_tick > w.tick, e.id, e.severity, "
        "e.magnitude, e.start_tick, e.resolution_tick, w.id, w.tick, "
        "$3::text IS NULL OR EXISTS (SELECT 1 FROM regions WHERE id = $3) "
        "FROM worlds w LEFT JOIN events e ON e.world_id = w.id "
        "AND ($2::bool IS NULL OR (e.resolution_tick > w.tick) = $2) "
        "AND ($3::text IS NULL OR e.region = $3) "
        "WHERE w.id = " WORLD_OF_CALLER " ORDER BY e.id DESC NULLS LAST LIMIT $4");

static const char *caller_world(struct http_req *req)
{
    return arena_printf(req->arena, "%" PRId64, req->who.world_id > 0 ? req->who.world_id : 0);
}

static int no_world(struct bt_err *err)
{
    return err_set(err, 404, "not-found", "your world has no state yet");
}

/* Adds columns [from, to) of a row as integers named after the columns. */
static void add_ints(struct json_object *o, const PGresult *r, int row, int from, int to)
{
    int c;

    for (c = from; c < to; c++)
        json_object_object_add(o, PQfname(r, c), json_object_new_int64(db_i64(r, row, c)));
}

int world_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const struct wparam_def *gs = &wparam_defs[WP_GAME_SECONDS_PER_TICK];
    const char *p[3] = {caller_world(req), gs->key, arena_printf(req->arena, "%" PRId64, gs->def)};
    PGresult *r = db_exec(&app->db, req->arena, &q_world_get, 3, p, err);
    struct json_object *o;

    if (!r)
        return BT_ERR;
    if (PQntuples(r) != 1)
        return no_world(err);
    o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(db_str(r, 0, 0)));
    json_object_object_add(o, "game_time", json_object_new_string(db_str(r, 0, 1)));
    add_ints(o, r, 0, 2, PQnfields(r));
    http_resp_json(resp, 200, o);
    return BT_OK;
}

/* A json text column (built by PostgreSQL) as an object; [] if unparsable. */
static struct json_object *json_col(const PGresult *r, int row, int col)
{
    struct json_object *j = db_str(r, row, col) ? json_tokener_parse(db_str(r, row, col)) : NULL;

    return j ? j : json_object_new_array();
}

static const char *const tiers[3] = {"tier1", "tier2", "tier3"};

int world_regions(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const char *p[1] = {caller_world(req)};
    PGresult *r = db_exec(&app->db, req->arena, &q_world_regions, 1, p, err);
    struct json_object *o, *list;
    int i, t;

    if (!r)
        return BT_ERR;
    if (PQntuples(r) == 0)
        return no_world(err);
    list = json_object_new_array();
    for (i = 0; i < PQntuples(r); i++) {
        struct json_object *g = json_object_new_object(), *out = json_object_new_object();
        json_object_object_add(g, "id", json_object_new_string(db_str(r, i, 0)));
        json_object_object_add(g, "name", json_object_new_string(db_str(r, i, 1)));
        json_object_object_add(g, "climate", json_object_new_string(db_str(r, i, 2)));
        json_object_object_add(g, "arid", json_object_new_boolean(db_bool(r, i, 3)));
        add_ints(g, r, i, 4, 13);
        for (t = 0; t < 3; t++)
            json_object_object_add(out, tiers[t], json_object_new_boolean(db_bool(r, i, 13 + t)));
        json_object_object_add(g, "outage", out);
        json_object_object_add(g, "events", json_col(r, i, 16));
        json_object_array_add(list, g);
    }
    o = json_object_new_object();
    json_object_object_add(o, "world", json_object_new_int64(db_i64(r, 0, 17)));
    json_object_object_add(o, "tick", json_object_new_int64(db_i64(r, 0, 18)));
    json_object_object_add(o, "regions", list);
    http_resp_json(resp, 200, o);
    return BT_OK;
}

struct events_q {
    const char *active;
    const char *region;
    int64_t limit;
};

static const char *const bools[] = {"true", "false", NULL};

static const struct valid_rule events_rules[] = {
    VENUM(struct events_q, active, 0, bools),
    VSTR(struct events_q, region, VF_PRINTABLE, 1, 32),
    VINT(struct events_q, limit, 0, 1, EVENTS_MAX_LIMIT),
    VALID_END,
};

int world_events(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct events_q q = {NULL, NULL, EVENTS_DEFAULT_LIMIT};
    const char *p[4];
    struct json_object *o, *list;
    PGresult *r;
    int i;

    if (valid_query(req, events_rules, &q, err) != BT_OK)
        return BT_ERR;
    p[0] = caller_world(req);
    p[1] = q.active;
    p[2] = q.region;
    p[3] = arena_printf(req->arena, "%" PRId64, q.limit);
    if (!(r = db_exec(&app->db, req->arena, &q_world_events, 4, p, err)))
        return BT_ERR;
    if (PQntuples(r) == 0)
        return no_world(err);
    if (!db_bool(r, 0, 11)) {
        err_field(err, "region", "unknown", "is not a region id");
        return err_check_fields(err);
    }
    list = json_object_new_array();
    for (i = 0; i < PQntuples(r); i++) {
        struct json_object *e;
        if (!db_str(r, i, 4))
            continue; /* the world row without any event */
        e = json_object_new_object();
        json_object_object_add(e, "type", json_object_new_string(db_str(r, i, 0)));
        json_object_object_add(e, "region",
                               db_str(r, i, 1) ? json_object_new_string(db_str(r, i, 1)) : NULL);
        json_object_object_add(e, "payload", json_col(r, i, 2));
        json_object_object_add(e, "active", json_object_new_boolean(db_bool(r, i, 3)));
        add_ints(e, r, i, 4, 9);
        json_object_array_add(list, e);
    }
    o = json_object_new_object();
    json_object_object_add(o, "world", json_object_new_int64(db_i64(r, 0, 9)));
    json_object_object_add(o, "tick", json_object_new_int64(db_i64(r, 0, 10)));
    json_object_object_add(o, "events", list);
    http_resp_json(resp, 200, o);
    return BT_OK;
}

struct history_q {
    int64_t from, to, step;
};

static const struct valid_rule history_rules[] = {
    VINT(struct history_q, from, 0, 0, INT64_MAX / 4),
    VINT(struct history_q, to, 0, 0, INT64_MAX / 4),
    VINT(struct history_q, step, 0, 1, 10000),
    VALID_END,
};

/* $2/$3 = from/to (NULL: defaults), $4 = step.  The first row always
 * exists (the world) and carries the resolved range. */
DB_STMT(q_world_history,
        "WITH w AS (SELECT id, COALESCE($3::bigint, tick) AS hi FROM worlds "
        "WHERE id = " WORLD_OF_CALLER "), "
        "r AS (SELECT id, GREATEST(COALESCE($2::bigint, hi - " BT_STR(
            HISTORY_DEFAULT_SPAN) " + 1), 0) "
                                  "AS lo, hi FROM w) "
                                  "SELECT r.id, r.lo, r.hi, t.tick, t.game_time_s, t.price_uusd, "
                                  "t.difficulty, "
                                  "t.network_hashrate_ths, t.height, t.region_price_uusd::text "
                                  "FROM r LEFT JOIN world_ticks t ON t.world_id = r.id AND t.tick "
                                  "BETWEEN r.lo AND r.hi "
                                  "AND t.tick % $4 = 0 ORDER BY t.tick LIMIT " BT_STR(
                                      HISTORY_MAX_POINTS));

int world_history(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct history_q q = {-1, -1, 1};
    const char *p[4];
    struct json_object *o, *list;
    PGresult *r;
    int64_t lo, hi;
    int i;

    if (valid_query(req, history_rules, &q, err) != BT_OK)
        return BT_ERR;
    if (q.from >= 0 && q.to >= 0 && q.from > q.to) {
        err_field(err, "from", "range", "must not be after to");
        return err_check_fields(err);
    }
    p[0] = caller_world(req);
    p[1] = q.from >= 0 ? arena_printf(req->arena, "%" PRId64, q.from) : NULL;
    p[2] = q.to >= 0 ? arena_printf(req->arena, "%" PRId64, q.to) : NULL;
    p[3] = arena_printf(req->arena, "%" PRId64, q.step);
    if (!(r = db_exec(&app->db, req->arena, &q_world_history, 4, p, err)))
        return BT_ERR;
    if (PQntuples(r) == 0)
        return no_world(err);
    lo = db_i64(r, 0, 1);
    hi = db_i64(r, 0, 2);
    if ((hi - lo) / q.step + 1 > HISTORY_MAX_POINTS) {
        err_field(err, "from", "range",
                  "the range holds more than " BT_STR(
                      HISTORY_MAX_POINTS) " points: narrow it or raise step");
        return err_check_fields(err);
    }
    list = json_object_new_array();
    for (i = 0; i < PQntuples(r); i++) {
        struct json_object *e;
        if (PQgetisnull(r, i, 3))
            continue; /* the world row without any tick in range */
        e = json_object_new_object();
        add_ints(e, r, i, 3, 9);
        json_object_object_add(e, "region_price_uusd", json_col(r, i, 9));
        json_object_array_add(list, e);
    }
    o = json_object_new_object();
    json_object_object_add(o, "world", json_object_new_int64(db_i64(r, 0, 0)));
    json_object_object_add(o, "from", json_object_new_int64(lo));
    json_object_object_add(o, "to", json_object_new_int64(hi));
    json_object_object_add(o, "step", json_object_new_int64(q.step));
    json_object_object_add(o, "points", list);
    http_resp_json(resp, 200, o);
    return BT_OK;
}
