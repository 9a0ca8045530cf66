/*
 * world_store.c - the world model in PostgreSQL: load (creating the rows
 * on first use), per-tick sync of admin inputs, and persist.
 *
 * Column lists below follow the field tables' order in world.c (state and
 * region fields); the generic readers/writers rely on that.  Everything
 * goes through named prepared statements; arrays carry the changed regions
 * in one statement.
 */
#include "world_internal.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_COLS                                                                                 \
    "tick, game_time_s, price_uusd, price_prev_uusd, price_var_e9, row_hashrate_ths, "             \
    "player_hashrate_ths, difficulty, height, epoch_start_height, epoch_start_time_s, "            \
    "blocks_last_tick, fee_noise_ppm, fee_share_bp, next_event_id"
#define REGION_COLS                                                                                \
    "energy_price_uusd, demand_bp, noise_ppm, spike_mult_bp, spike_until, temp_mc, anomaly_mc, "   \
    "dust_bp, cooling_load_bp, outage_until_t1, outage_until_t2, outage_until_t3"
#define NSTATE_COLS  15 /* = world_nstate_fields, checked at load */
#define NREGION_COLS 12 /* = world_nregion_fields */

DB_STMT(q_wm_world, "SELECT seed, tick, params_version FROM worlds WHERE id = $1");
DB_STMT(q_wm_state, "SELECT " STATE_COLS " FROM world_state WHERE world_id = $1");
DB_STMT(q_wm_regions, "SELECT region_id, " REGION_COLS " FROM region_state WHERE world_id = $1");
DB_STMT(q_wm_events, "SELECT id, type, region, severity, magnitude, start_tick, resolution_tick "
                     "FROM events WHERE world_id = $1 AND resolution_tick > $2 "
                     "ORDER BY id LIMIT 64");
DB_STMT(q_wm_params, "SELECT key, value FROM world_params WHERE world_id = $1");
DB_STMT(q_wm_version, "SELECT params_version FROM worlds WHERE id = $1");
/* A parameter change is logged with the tick that picked it up (one
 * statement: the rows logged are the rows applied), so that a replay sees
 * the same parameters at the same tick. */
DB_STMT(q_wm_params_take,
        "WITH s AS (INSERT INTO world_params_applied (world_id, tick, version, params) "
        "SELECT $1, $2, $3, COALESCE(jsonb_object_agg(key, value), '{}') FROM world_params "
        "WHERE world_id = $1 RETURNING params) "
        "SELECT e.key, e.value FROM s, jsonb_each_text(s.params) AS e");
DB_STMT(q_wm_params_replay,
        "SELECT e.key, e.value FROM world_params_applied a, jsonb_each_text(a.params) AS e "
        "WHERE a.world_id = $1 AND a.tick = $2");
DB_STMT(q_wm_params_changed,
        "SELECT version FROM world_params_applied WHERE world_id = $1 AND tick = $2");
DB_STMT(q_wm_claimed, "SELECT id, kind, COALESCE(pct_bp, 0), event_type, region FROM world_shocks "
                      "WHERE world_id = $1 AND applied_tick = $2 ORDER BY id");
DB_STMT(q_wm_region_def,
        "INSERT INTO regions (id, name, climate, base_price_uusd, price_cap_uusd, utc_offset_min, "
        "mean_temp_mc, grid_reliability_bp, arid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (id) DO UPDATE SET name = $2, climate = $3, base_price_uusd = $4, "
        "price_cap_uusd = $5, utc_offset_min = $6, mean_temp_mc = $7, grid_reliability_bp = $8, "
        "arid = $9 WHERE (regions.name, regions.climate, regions.base_price_uusd, "
        "regions.price_cap_uusd, regions.utc_offset_min, regions.mean_temp_mc, "
        "regions.grid_reliability_bp, regions.arid) IS DISTINCT FROM (EXCLUDED.name, "
        "EXCLUDED.climate, EXCLUDED.base_price_uusd, EXCLUDED.price_cap_uusd, "
        "EXCLUDED.utc_offset_min, EXCLUDED.mean_temp_mc, EXCLUDED.grid_reliability_bp, "
        "EXCLUDED.arid)");
DB_STMT(q_wm_state_new, "INSERT INTO world_state (world_id) VALUES ($1) ON CONFLICT DO NOTHING");
DB_STMT(q_wm_regions_new, "INSERT INTO region_state (world_id, region_id) SELECT $1, id "
                          "FROM regions ON CONFLICT DO NOTHING");
DB_STMT(q_wm_state_save,
        "UPDATE world_state SET (" STATE_COLS ", params_version, network_hashrate_ths, "
        "subsidy_sats, block_fees_sats) = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15, $16, $17, $18, $19, $20) WHERE world_id = $1");
DB_STMT(q_wm_regions_save,
        "UPDATE region_state s SET (" REGION_COLS ") = (u.c1, u.c2, u.c3, u.c4, u.c5, u.c6, u.c7, "
        "u.c8, u.c9, u.c10, u.c11, u.c12) FROM unnest($2::text[], $3::bigint[], $4::bigint[], "
        "$5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], "
        "$11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[]) "
        "AS u(id, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) "
        "WHERE s.world_id = $1 AND s.region_id = u.id");
DB_STMT(q_wm_tick_row,
        "INSERT INTO world_ticks (world_id, tick, game_time_s, price_uusd, difficulty, "
        "network_hashrate_ths, height, region_price_uusd, active_event_ids) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::bigint[])");
DB_STMT(q_wm_event_new,
        "INSERT INTO events (world_id, id, type, region, severity, magnitude, start_tick, "
        "resolution_tick, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)");
DB_STMT(q_wm_claim,
        "UPDATE world_shocks SET applied_tick = $2 WHERE id IN (SELECT id FROM world_shocks "
        "WHERE world_id = $1 AND applied_tick IS NULL ORDER BY id LIMIT 16 FOR UPDATE) "
        "RETURNING id, kind, COALESCE(pct_bp, 0), event_type, region");

static const char *i64(struct arena *a, int64_t v)
{
    return arena_printf(a, "%" PRId64, v);
}

static int64_t *state_slot(const struct world_model *wm, int i)
{
    return world_field_slot(wm, &world_state_fields[i]);
}

static int64_t *region_slot(const struct world_region_state *s, int i)
{
    return world_field_slot(s, &world_region_fields[i]);
}

static int save_region_defs(struct db *db, struct arena *a, struct bt_err *err)
{
    int r;

    for (r = 0; r < WORLD_NREGIONS; r++) {
        const struct world_region_def *d = &world_regions[r];
        const char *p[9] = {d->id,
                            d->name,
                            d->climate,
                            i64(a, d->base_uusd),
                            i64(a, d->cap_uusd),
                            i64(a, d->utc_offset_min),
                            i64(a, d->mean_mc),
                            i64(a, d->reliability_bp),
                            d->arid ? "true" : "false"};
        if (!db_exec(db, a, &q_wm_region_def, 9, p, err))
            return BT_ERR;
    }
    return BT_OK;
}

/* Sets wm->params from (key, value) rows: defaults for missing keys,
 * unknown keys ignored, values clamped to their ranges. */
static void set_params(struct world_model *wm, PGresult *r)
{
    int i;

    for (i = 0; i < WP_COUNT; i++)
        wm->params[i] = wparam_defs[i].def;
    for (i = 0; i < PQntuples(r); i++) {
        int k = wparam_find(db_str(r, i, 0));
        int64_t v = db_i64(r, i, 1);
        if (k < 0)
            continue; /* a key this build does not know: ignored, never fatal */
        if (v < wparam_defs[k].min)
            v = wparam_defs[k].min;
        if (v > wparam_defs[k].max)
            v = wparam_defs[k].max;
        wm->params[k] = v;
    }
}

static int load_params(struct world_model *wm, struct db *db, struct arena *a, struct bt_err *err)
{
    const char *p[1] = {i64(a, wm->world_id)};
    PGresult *r = db_exec(db, a, &q_wm_params, 1, p, err);

    if (!r)
        return BT_ERR;
    set_params(wm, r);
    return BT_OK;
}

/* Reads world_state, region_state and the active events into wm. */
static int load_rows(struct world_model *wm, struct db *db, struct arena *a, bool *found,
                     struct bt_err *err)
{
    const char *p[2] = {i64(a, wm->world_id), NULL};
    PGresult *r = db_exec(db, a, &q_wm_state, 1, p, err);
    int i, c;

    if (!r)
        return BT_ERR;
    *found = PQntuples(r) == 1;
    if (!*found)
        return BT_OK;
    for (c = 0; c < NSTATE_COLS; c++)
        *state_slot(wm, c) = db_i64(r, 0, c);
    if (!(r = db_exec(db, a, &q_wm_regions, 1, p, err)))
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        int k = world_region_index(db_str(r, i, 0));
        if (k < 0)
            continue;
        for (c = 0; c < NREGION_COLS; c++)
            *region_slot(&wm->regions[k], c) = db_i64(r, i, c + 1);
    }
    p[1] = i64(a, wm->tick);
    if (!(r = db_exec(db, a, &q_wm_events, 2, p, err)))
        return BT_ERR;
    wm->nevents = 0;
    for (i = 0; i < PQntuples(r) && wm->nevents < WORLD_MAX_EVENTS; i++) {
        struct world_event *e = &wm->events[wm->nevents];
        int type = wevent_find(db_str(r, i, 1));
        if (type < 0)
            continue;
        e->id = db_i64(r, i, 0);
        e->type = type;
        e->region = db_str(r, i, 2) ? world_region_index(db_str(r, i, 2)) : -1;
        e->severity = db_i64(r, i, 3);
        e->magnitude = db_i64(r, i, 4);
        e->start_tick = db_i64(r, i, 5);
        e->resolution_tick = db_i64(r, i, 6);
        wm->nevents++;
    }
    return BT_OK;
}

static int save_state(const struct world_model *wm, struct db *db, struct arena *a,
                      struct bt_err *err)
{
    const char *p[NSTATE_COLS + 5];
    int c;

    p[0] = i64(a, wm->world_id);
    for (c = 0; c < NSTATE_COLS; c++)
        p[c + 1] = i64(a, *state_slot(wm, c));
    p[NSTATE_COLS + 1] = i64(a, wm->params_version);
    p[NSTATE_COLS + 2] = i64(a, world_model_network_hashrate_ths(wm));
    p[NSTATE_COLS + 3] = i64(a, world_model_subsidy_sats(wm));
    p[NSTATE_COLS + 4] = i64(a, world_model_block_fees_sats(wm));
    return db_exec(db, a, &q_wm_state_save, NSTATE_COLS + 5, p, err) ? BT_OK : BT_ERR;
}

/* One UPDATE for the regions in mask, as SQL arrays "{a,b,...}". */
static int save_regions(const struct world_model *wm, uint32_t mask, struct db *db, struct arena *a,
                        struct bt_err *err)
{
    const char *p[NREGION_COLS + 2];
    char buf[NREGION_COLS + 1][WORLD_NREGIONS * 24 + 8];
    int r, c;

    if (!mask)
        return BT_OK;
    for (c = 0; c <= NREGION_COLS; c++)
        strcpy(buf[c], "{");
    for (r = 0; r < WORLD_NREGIONS; r++) {
        if (!(mask & (1u << r)))
            continue;
        for (c = 0; c <= NREGION_COLS; c++) {
            size_t n = strlen(buf[c]);
            const struct world_region_state *s = &wm->regions[r];
            if (c == 0)
                snprintf(buf[c] + n, sizeof(buf[c]) - n, "%s%s", n > 1 ? "," : "",
                         world_regions[r].id);
            else
                snprintf(buf[c] + n, sizeof(buf[c]) - n, "%s%" PRId64, n > 1 ? "," : "",
                         *region_slot(s, c - 1));
        }
    }
    p[0] = i64(a, wm->world_id);
    for (c = 0; c <= NREGION_COLS; c++) {
        strcat(buf[c], "}");
        p[c + 1] = arena_strdup(a, buf[c]);
    }
    return db_exec(db, a, &q_wm_regions_save, NREGION_COLS + 2, p, err) ? BT_OK : BT_ERR;
}

static const char *event_payload(struct arena *a, const struct world_event *e)
{
    static const char *const unit[WEV_COUNT] = {
        [WEV_HEAT_WAVE] = "temp_mc",
        [WEV_COLD_SNAP] = "temp_mc",
        [WEV_DUST_STORM] = "dust_bp",
        [WEV_GRID_EMERGENCY] = "energy_price_mult_bp",
        [WEV_REGULATORY_SHOCK] = "btc_price_move_bp",
        [WEV_FEE_SPIKE] = "fee_share_bp",
    };

    return arena_printf(a, "{\"magnitude\":%" PRId64 ",\"unit\":\"%s\",\"severity\":%" PRId64 "}",
                        e->magnitude, unit[e->type], e->severity);
}

static int save_new_events(const struct world_model *wm, int64_t tick, struct db *db,
                           struct arena *a, struct bt_err *err)
{
    int64_t i;

    for (i = 0; i < wm->nevents; i++) {
        const struct world_event *e = &wm->events[i];
        const char *p[9];
        if (e->start_tick != tick)
            continue;
        p[0] = i64(a, wm->world_id);
        p[1] = i64(a, e->id);
        p[2] = wevent_names[e->type];
        p[3] = world_region_id((int)e->region);
        p[4] = i64(a, e->severity);
        p[5] = i64(a, e->magnitude);
        p[6] = i64(a, e->start_tick);
        p[7] = i64(a, e->resolution_tick);
        p[8] = event_payload(a, e);
        if (!db_exec(db, a, &q_wm_event_new, 9, p, err))
            return BT_ERR;
    }
    return BT_OK;
}

/* The tick's public figures (world_ticks, see 0008). */
static int save_tick_row(const struct world_model *wm, int64_t tick, struct db *db, struct arena *a,
                         struct bt_err *err)
{
    char prices[WORLD_NREGIONS * 40 + 4], events[WORLD_MAX_EVENTS * 21 + 4];
    size_t n = 0, m = 0;
    int r;
    int64_t e;
    const char *p[9];

    prices[n++] = '{';
    for (r = 0; r < WORLD_NREGIONS; r++)
        n += (size_t)snprintf(prices + n, sizeof(prices) - n, "%s\"%s\":%" PRId64, r ? "," : "",
                              world_regions[r].id, wm->regions[r].energy_price_uusd);
    snprintf(prices + n, sizeof(prices) - n, "}");
    events[m++] = '{';
    for (e = 0; e < wm->nevents; e++)
        m += (size_t)snprintf(events + m, sizeof(events) - m, "%s%" PRId64, e ? "," : "",
                              wm->events[e].id);
    snprintf(events + m, sizeof(events) - m, "}");
    p[0] = i64(a, wm->world_id);
    p[1] = i64(a, tick);
    p[2] = i64(a, wm->game_time_s);
    p[3] = i64(a, wm->price_uusd);
    p[4] = i64(a, wm->difficulty);
    p[5] = i64(a, world_model_network_hashrate_ths(wm));
    p[6] = i64(a, wm->height);
    p[7] = prices;
    p[8] = events;
    return db_exec(db, a, &q_wm_tick_row, 9, p, err) ? BT_OK : BT_ERR;
}

int world_model_persist(const struct world_model *wm, struct db *db, struct arena *a, int64_t tick,
                        struct bt_err *err)
{
    if (save_state(wm, db, a, err) != BT_OK)
        return BT_ERR;
    if (save_regions(wm, wm->dirty_regions, db, a, err) != BT_OK)
        return BT_ERR;
    if (save_tick_row(wm, tick, db, a, err) != BT_OK)
        return BT_ERR;
    return save_new_events(wm, tick, db, a, err);
}

/* First use of a world: the initial state, written in the caller's
 * transaction (tickd's load) or in one of its own. */
static int create_rows(struct world_model *wm, struct db *db, struct arena *a, int64_t tick,
                       struct bt_err *err)
{
    const char *p[1] = {i64(a, wm->world_id)};
    int64_t version = wm->params_version;
    int64_t params[WP_COUNT];

    bool own = !db->in_tx; /* inside the caller's transaction when it has one */

    memcpy(params, wm->params, sizeof(params));
    world_model_init(wm, wm->world_id, wm->seed, tick);
    memcpy(wm->params, params, sizeof(params));
    wm->params_version = version;
    if (own && db_begin(db, err) != BT_OK)
        return BT_ERR;
    if (!db_exec(db, a, &q_wm_state_new, 1, p, err) ||
        !db_exec(db, a, &q_wm_regions_new, 1, p, err) || save_state(wm, db, a, err) != BT_OK ||
        save_regions(wm, (1u << WORLD_NREGIONS) - 1, db, a, err) != BT_OK ||
        (own && db_commit(db, err) != BT_OK)) {
        if (own)
            db_rollback(db);
        return BT_ERR;
    }
    return BT_OK;
}

int world_model_load(struct world_model *wm, struct db *db, struct arena *a, int64_t world_id,
                     struct bt_err *err)
{
    const char *p[1] = {i64(a, world_id)};
    PGresult *r = db_exec(db, a, &q_wm_world, 1, p, err);
    int64_t tick;
    bool found;

    if (!r)
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_internal(err, "world %" PRId64 " does not exist", world_id);
    BT_ASSERT(world_nstate_fields == NSTATE_COLS && world_nregion_fields == NREGION_COLS);
    memset(wm, 0, sizeof(*wm));
    wm->world_id = world_id;
    wm->seed = (uint64_t)db_i64(r, 0, 0);
    tick = db_i64(r, 0, 1);
    wm->params_version = db_i64(r, 0, 2);
    if (save_region_defs(db, a, err) != BT_OK || load_params(wm, db, a, err) != BT_OK ||
        load_rows(wm, db, a, &found, err) != BT_OK)
        return BT_ERR;
    if (!found)
        return create_rows(wm, db, a, tick, err);
    if (wm->tick != tick)
        return err_internal(err, "world %" PRId64 ": model at tick %" PRId64 ", world at %" PRId64,
                            world_id, wm->tick, tick);
    return BT_OK;
}

/* Claimed shock rows (id, kind, pct_bp, event_type, region) into wm,
 * in id order. */
static int take_shocks(struct world_model *wm, PGresult *r)
{
    int i;

    wm->nshocks = 0;
    for (i = 0; i < PQntuples(r) && wm->nshocks < WORLD_MAX_SHOCKS; i++) {
        struct world_shock *s = &wm->shocks[wm->nshocks];
        s->id = db_i64(r, i, 0);
        s->kind = strcmp(db_str(r, i, 1), "price") == 0 ? WORLD_SHOCK_PRICE : WORLD_SHOCK_EVENT;
        s->pct_bp = db_i64(r, i, 2);
        s->type = db_str(r, i, 3) ? wevent_find(db_str(r, i, 3)) : -1;
        s->region = db_str(r, i, 4) ? world_region_index(db_str(r, i, 4)) : -1;
        if (s->kind == WORLD_SHOCK_EVENT &&
            (s->type < 0 || wevent_regional(s->type) != (s->region >= 0)))
            continue; /* validated by the admin service; a bad row is skipped, never fatal */
        wm->nshocks++;
    }
    /* RETURNING has no order: apply in id order, as a replay would. */
    for (i = 1; i < wm->nshocks; i++) {
        struct world_shock s = wm->shocks[i];
        int j = i - 1;
        while (j >= 0 && wm->shocks[j].id > s.id) {
            wm->shocks[j + 1] = wm->shocks[j];
            j--;
        }
        wm->shocks[j + 1] = s;
    }
    return BT_OK;
}

int world_model_sync(struct world_model *wm, struct db *db, struct arena *a, int64_t tick,
                     bool replay, struct bt_err *err)
{
    const char *p[2] = {i64(a, wm->world_id), i64(a, tick)};
    PGresult *r;

    if (replay) {
        /* The recorded inputs of this tick: a logged parameter change and
         * the shocks it claimed. */
        if (!(r = db_exec(db, a, &q_wm_params_changed, 2, p, err)))
            return BT_ERR;
        if (PQntuples(r) == 1) {
            int64_t version = db_i64(r, 0, 0);
            if (!(r = db_exec(db, a, &q_wm_params_replay, 2, p, err)))
                return BT_ERR;
            set_params(wm, r);
            wm->params_version = version;
        }
        if (!(r = db_exec(db, a, &q_wm_claimed, 2, p, err)))
            return BT_ERR;
        return take_shocks(wm, r);
    }
    if (!(r = db_exec(db, a, &q_wm_version, 1, p, err)))
        return BT_ERR;
    if (PQntuples(r) == 1 && db_i64(r, 0, 0) != wm->params_version) {
        int64_t version = db_i64(r, 0, 0);
        const char *q[3] = {p[0], p[1], i64(a, version)};
        if (!(r = db_exec(db, a, &q_wm_params_take, 3, q, err)))
            return BT_ERR;
        set_params(wm, r);
        wm->params_version = version;
        log_msg(LOGL_INFO, NULL,
                "world %" PRId64 ": parameters version %" PRId64 " from tick %" PRId64,
                wm->world_id, wm->params_version, tick);
    }
    if (!(r = db_exec(db, a, &q_wm_claim, 2, p, err)))
        return BT_ERR;
    return take_shocks(wm, r);
}
