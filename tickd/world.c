/*
 * world.c - the world model's life cycle: initial state, the ordered step
 * (events -> price -> network -> regions, the regions optionally on several
 * threads), the canonical encoding behind hash and snapshots, the tick
 * payload, and persistence (load, per-tick sync of admin inputs, persist).
 *
 * The step is pure: no I/O, no clock, no global state; every random draw
 * comes from lib/rng.h keyed by (seed, tick, stream, entity), so the result
 * does not depend on the thread count or on which process computes it.
 * Doubles appear only inside formulas and are rounded by world_round()
 * before they touch the state.
 *
 * Persistence writes only what changed: one UPDATE of world_state per tick,
 * one UPDATE of the regions that changed (arrays, one round trip), one
 * INSERT per new event.  Admin inputs enter through world_model_sync:
 * parameters when worlds.params_version moved, and shocks claimed from
 * world_shocks (stamped with the tick that applied them, for replays).
 */
#include "world_internal.h"
#include "log.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GAME_EPOCH_S       1735689600LL  /* 2025-01-01T00:00:00Z */
#define START_PRICE_UUSD   95000000000LL /* USD 95,000 */
#define START_HASHRATE_THS 780000000LL   /* 780 EH/s */
#define START_HEIGHT       877000LL      /* early January 2025 */
#define START_SEED_ENTITY  0xC0FFEEu

/* ---- formula helpers ---- */

int64_t world_round(double x, int64_t lo, int64_t hi)
{
    if (!(x == x) || x <= (double)lo)
        return lo;
    if (x >= (double)hi)
        return hi;
    return (int64_t)llround(x);
}

double world_dt_years(const struct world_model *wm)
{
    return (double)wm->params[WP_GAME_SECONDS_PER_TICK] / WORLD_SECONDS_PER_YEAR;
}

int64_t world_rate_ppm(const struct world_model *wm, double per_year, int64_t pct)
{
    double lambda = per_year * (double)pct / 100.0 * world_dt_years(wm);

    return lambda <= 0 ? 0 : world_round(-expm1(-lambda) * 1e6, 0, 1000000);
}

int64_t world_ticks_for(const struct world_model *wm, double seconds)
{
    return world_round(seconds / (double)wm->params[WP_GAME_SECONDS_PER_TICK], 1, 100000000);
}

int64_t world_model_price_uusd(const struct world_model *wm)
{
    return wm->price_uusd;
}

/* ---- the field tables: one list drives hash, snapshots and SQL ---- */

#define WF(f)                                                                                      \
    {                                                                                              \
#f, offsetof(struct world_model, f)                                                        \
    }
/* Same order as the world_state columns in world_store.c (STATE_COLS). */
const struct world_field world_state_fields[] = {
    WF(tick),          WF(game_time_s),        WF(price_uusd),          WF(price_prev_uusd),
    WF(price_var_e9),  WF(row_hashrate_ths),   WF(player_hashrate_ths), WF(difficulty),
    WF(height),        WF(epoch_start_height), WF(epoch_start_time_s),  WF(blocks_last_tick),
    WF(fee_noise_ppm), WF(fee_share_bp),       WF(next_event_id),
};
const size_t world_nstate_fields = BT_ARRAY_LEN(world_state_fields);

#define RF(f)                                                                                      \
    {                                                                                              \
#f, offsetof(struct world_region_state, f)                                                 \
    }
/* Same order as the region_state columns in world_store.c (REGION_COLS). */
const struct world_field world_region_fields[] = {
    RF(energy_price_uusd),
    RF(demand_bp),
    RF(noise_ppm),
    RF(spike_mult_bp),
    RF(spike_until),
    RF(temp_mc),
    RF(anomaly_mc),
    RF(dust_bp),
    RF(cooling_load_bp),
    {"outage_until_t1", offsetof(struct world_region_state, outage_until)},
    {"outage_until_t2", offsetof(struct world_region_state, outage_until) + sizeof(int64_t)},
    {"outage_until_t3", offsetof(struct world_region_state, outage_until) + 2 * sizeof(int64_t)},
};
const size_t world_nregion_fields = BT_ARRAY_LEN(world_region_fields);

#define EF(f)                                                                                      \
    {                                                                                              \
#f, offsetof(struct world_event, f)                                                        \
    }
const struct world_field world_event_fields[] = {
    EF(id), EF(type), EF(region), EF(severity), EF(magnitude), EF(start_tick), EF(resolution_tick),
};
const size_t world_nevent_fields = BT_ARRAY_LEN(world_event_fields);

int64_t *world_field_slot(const void *base, const struct world_field *f)
{
    return (int64_t *)(void *)((char *)(uintptr_t)base + f->off);
}

/* ---- initial state and the step ---- */

static void params_defaults(struct world_model *wm)
{
    int i;

    for (i = 0; i < WP_COUNT; i++)
        wm->params[i] = wparam_defs[i].def;
}

void world_model_init(struct world_model *wm, int64_t world_id, uint64_t seed, int64_t tick)
{
    int r;

    memset(wm, 0, sizeof(*wm));
    wm->world_id = world_id;
    wm->seed = seed;
    params_defaults(wm);
    wm->tick = tick;
    wm->game_time_s = GAME_EPOCH_S;
    wm->price_uusd = wm->price_prev_uusd = START_PRICE_UUSD;
    wm->price_var_e9 = wm->params[WP_PRICE_VOL_BP] * wm->params[WP_PRICE_VOL_BP] * 10;
    wm->row_hashrate_ths = START_HASHRATE_THS;
    /* Difficulty that makes the starting hashrate find one block per 600 s. */
    wm->difficulty = world_round(
        (double)START_HASHRATE_THS * 1e12 * WORLD_BLOCK_TARGET_S / 4294967296.0, 1, INT64_MAX);
    wm->height = START_HEIGHT;
    wm->epoch_start_height = START_HEIGHT - START_HEIGHT % WORLD_RETARGET_BLOCKS;
    wm->epoch_start_time_s =
        wm->game_time_s - (wm->height - wm->epoch_start_height) * WORLD_BLOCK_TARGET_S;
    wm->fee_share_bp = wm->params[WP_FEE_SHARE_MEAN_BP];
    wm->next_event_id = 1;
    for (r = 0; r < WORLD_NREGIONS; r++) {
        wm->regions[r].spike_mult_bp = 10000;
        /* Settle climate and prices with draws no tick ever uses. */
        world_region_step(wm, r, seed ^ START_SEED_ENTITY, -1);
        memset(wm->regions[r].outage_until, 0, sizeof(wm->regions[r].outage_until));
    }
}

struct region_job {
    struct world_model *wm;
    uint64_t seed;
    int64_t tick;
    int first, stride;
};

static void *region_worker(void *arg)
{
    struct region_job *j = arg;
    int r;

    for (r = j->first; r < WORLD_NREGIONS; r += j->stride)
        world_region_step(j->wm, r, j->seed, j->tick);
    return NULL;
}

/* Regions are independent (own state, own RNG entity), so any split over
 * threads gives the same result; thread i takes regions i, i+n, ... */
static void step_regions(struct world_model *wm, uint64_t seed, int64_t tick, int threads)
{
    struct region_job jobs[WORLD_NREGIONS];
    pthread_t tid[WORLD_NREGIONS];
    bool started[WORLD_NREGIONS] = {false};
    int i;

    if (threads < 1)
        threads = 1;
    if (threads > WORLD_NREGIONS)
        threads = WORLD_NREGIONS;
    for (i = 0; i < threads; i++)
        jobs[i] = (struct region_job){wm, seed, tick, i, threads};
    for (i = 1; i < threads; i++)
        started[i] = pthread_create(&tid[i], NULL, region_worker, &jobs[i]) == 0;
    region_worker(&jobs[0]);
    for (i = 1; i < threads; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            region_worker(&jobs[i]); /* no thread: same work, same result */
    }
}

void world_model_step(struct world_model *wm, uint64_t seed, int64_t tick, int threads)
{
    struct world_region_state before[WORLD_NREGIONS];
    int r;

    memcpy(before, wm->regions, sizeof(before));
    wm->tick = tick;
    wm->game_time_s += wm->params[WP_GAME_SECONDS_PER_TICK];
    world_events_step(wm, seed, tick);
    world_price_step(wm, seed, tick);
    world_network_step(wm, seed, tick);
    step_regions(wm, seed, tick, threads);
    wm->dirty_regions = 0;
    for (r = 0; r < WORLD_NREGIONS; r++)
        if (memcmp(&before[r], &wm->regions[r], sizeof(before[r])) != 0)
            wm->dirty_regions |= 1u << r;
    wm->nshocks = 0;
}

/* ---- canonical encoding and hash ---- */

static void put64(crypto_generichash_state *h, int64_t v)
{
    unsigned char b[8];
    int i;

    for (i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    crypto_generichash_update(h, b, sizeof(b));
}

/* Tag, parameters, state fields, regions, then events, each as
 * little-endian int64 in table order. */
void world_model_hash(const struct world_model *wm, crypto_generichash_state *h)
{
    size_t i;
    int64_t e;
    int r;

    crypto_generichash_update(h, (const unsigned char *)"bt-world-1", 10);
    for (i = 0; i < WP_COUNT; i++)
        put64(h, wm->params[i]);
    for (i = 0; i < world_nstate_fields; i++)
        put64(h, *world_field_slot(wm, &world_state_fields[i]));
    for (r = 0; r < WORLD_NREGIONS; r++)
        for (i = 0; i < world_nregion_fields; i++)
            put64(h, *world_field_slot(&wm->regions[r], &world_region_fields[i]));
    put64(h, wm->nevents);
    for (e = 0; e < wm->nevents; e++)
        for (i = 0; i < world_nevent_fields; i++)
            put64(h, *world_field_slot(&wm->events[e], &world_event_fields[i]));
}

/* ---- snapshots ---- */

static struct json_object *fields_json(const void *base, const struct world_field *f, size_t n)
{
    struct json_object *o = json_object_new_object();
    size_t i;

    for (i = 0; i < n; i++)
        json_object_object_add(o, f[i].name, json_object_new_int64(*world_field_slot(base, &f[i])));
    return o;
}

static int fields_from_json(void *base, const struct world_field *f, size_t n,
                            struct json_object *o, const char *what, struct bt_err *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct json_object *v;
        if (!json_object_object_get_ex(o, f[i].name, &v) || !json_object_is_type(v, json_type_int))
            return err_internal(err, "world snapshot: %s.%s missing or not an integer", what,
                                f[i].name);
        *world_field_slot(base, &f[i]) = json_object_get_int64(v);
    }
    return BT_OK;
}

struct json_object *world_model_to_json(const struct world_model *wm)
{
    struct json_object *o = json_object_new_object(), *p = json_object_new_object();
    struct json_object *regions = json_object_new_array(), *events = json_object_new_array();
    int i;

    json_object_object_add(o, "format", json_object_new_int(1));
    json_object_object_add(o, "world_id", json_object_new_int64(wm->world_id));
    json_object_object_add(o, "params_version", json_object_new_int64(wm->params_version));
    for (i = 0; i < WP_COUNT; i++)
        json_object_object_add(p, wparam_defs[i].key, json_object_new_int64(wm->params[i]));
    json_object_object_add(o, "params", p);
    json_object_object_add(o, "state", fields_json(wm, world_state_fields, world_nstate_fields));
    for (i = 0; i < WORLD_NREGIONS; i++) {
        struct json_object *r =
            fields_json(&wm->regions[i], world_region_fields, world_nregion_fields);
        json_object_object_add(r, "id", json_object_new_string(world_regions[i].id));
        json_object_array_add(regions, r);
    }
    json_object_object_add(o, "regions", regions);
    for (i = 0; i < wm->nevents; i++)
        json_object_array_add(events,
                              fields_json(&wm->events[i], world_event_fields, world_nevent_fields));
    json_object_object_add(o, "events", events);
    return o;
}

int world_model_from_json(struct world_model *wm, struct json_object *j, struct bt_err *err)
{
    struct world_model m;
    struct json_object *v, *p, *regions, *events;
    size_t i;

    memset(&m, 0, sizeof(m));
    m.world_id = wm->world_id;
    m.seed = wm->seed;
    if (!json_object_object_get_ex(j, "params", &p) || !json_object_object_get_ex(j, "state", &v) ||
        !json_object_object_get_ex(j, "regions", &regions) ||
        !json_object_object_get_ex(j, "events", &events) ||
        !json_object_is_type(regions, json_type_array) ||
        json_object_array_length(regions) != WORLD_NREGIONS ||
        !json_object_is_type(events, json_type_array) ||
        json_object_array_length(events) > WORLD_MAX_EVENTS)
        return err_internal(err, "world snapshot: missing or malformed sections");
    for (i = 0; i < WP_COUNT; i++) {
        struct json_object *x;
        if (!json_object_object_get_ex(p, wparam_defs[i].key, &x))
            return err_internal(err, "world snapshot: parameter %s missing", wparam_defs[i].key);
        m.params[i] = json_object_get_int64(x);
    }
    if (json_object_object_get_ex(j, "params_version", &v))
        m.params_version = json_object_get_int64(v);
    json_object_object_get_ex(j, "state", &v);
    if (fields_from_json(&m, world_state_fields, world_nstate_fields, v, "state", err) != BT_OK)
        return BT_ERR;
    for (i = 0; i < WORLD_NREGIONS; i++)
        if (fields_from_json(&m.regions[i], world_region_fields, world_nregion_fields,
                             json_object_array_get_idx(regions, i), "regions", err) != BT_OK)
            return BT_ERR;
    m.nevents = (int64_t)json_object_array_length(events);
    for (i = 0; i < (size_t)m.nevents; i++)
        if (fields_from_json(&m.events[i], world_event_fields, world_nevent_fields,
                             json_object_array_get_idx(events, i), "events", err) != BT_OK)
            return BT_ERR;
    *wm = m;
    return BT_OK;
}

void world_model_free(struct world_model *wm)
{
    /* Plain data: nothing owned.  Cleared so a stale model is never used. */
    memset(wm, 0, sizeof(*wm));
}

/* ---- the tick:update payload ---- */

static void game_time_iso(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct json_object *event_json(const struct world_event *e)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_int64(e->id));
    json_object_object_add(o, "type", json_object_new_string(wevent_names[e->type]));
    json_object_object_add(
        o, "region", e->region >= 0 ? json_object_new_string(world_regions[e->region].id) : NULL);
    json_object_object_add(o, "severity", json_object_new_int64(e->severity));
    json_object_object_add(o, "magnitude", json_object_new_int64(e->magnitude));
    json_object_object_add(o, "start_tick", json_object_new_int64(e->start_tick));
    json_object_object_add(o, "resolution_tick", json_object_new_int64(e->resolution_tick));
    return o;
}

void world_model_payload(const struct world_model *wm, struct json_object *payload)
{
    struct json_object *regions = json_object_new_array(), *events = json_object_new_array();
    char iso[32];
    int64_t i;
    int r, t;

    game_time_iso(wm->game_time_s, iso, sizeof(iso));
    json_object_object_add(payload, "game_time", json_object_new_string(iso));
    json_object_object_add(payload, "price_uusd", json_object_new_int64(wm->price_uusd));
    json_object_object_add(payload, "difficulty", json_object_new_int64(wm->difficulty));
    json_object_object_add(payload, "hashrate_ths",
                           json_object_new_int64(world_model_network_hashrate_ths(wm)));
    json_object_object_add(payload, "height", json_object_new_int64(wm->height));
    json_object_object_add(payload, "blocks", json_object_new_int64(wm->blocks_last_tick));
    json_object_object_add(payload, "subsidy_sats",
                           json_object_new_int64(world_model_subsidy_sats(wm)));
    json_object_object_add(payload, "fee_share_bp", json_object_new_int64(wm->fee_share_bp));
    for (r = 0; r < WORLD_NREGIONS; r++) {
        struct json_object *o = json_object_new_object(), *out = json_object_new_array();
        json_object_object_add(o, "id", json_object_new_string(world_regions[r].id));
        json_object_object_add(o, "energy_price_uusd",
                               json_object_new_int64(wm->regions[r].energy_price_uusd));
        json_object_object_add(o, "temp_mc", json_object_new_int64(wm->regions[r].temp_mc));
        json_object_object_add(o, "cooling_load_bp",
                               json_object_new_int64(wm->regions[r].cooling_load_bp));
        for (t = 1; t <= WORLD_NTIERS; t++)
            json_object_array_add(out, json_object_new_boolean(world_model_outage(wm, r, t)));
        json_object_object_add(o, "outage", out);
        json_object_array_add(regions, o);
    }
    json_object_object_add(payload, "regions", regions);
    for (i = 0; i < wm->nevents; i++)
        json_object_array_add(events, event_json(&wm->events[i]));
    json_object_object_add(payload, "events", events);
}
