/*
 * world.h - the world processes of one world: BTC price, the Bitcoin
 * network, the six energy regions and world events.
 *
 * The model is plain data (no pointers), so it can be copied to roll back a
 * failed tick.  Its life in tickd:
 *
 *   world_model_load     once at world start: restores the committed state
 *                        (creating it on first use)
 *   world_model_sync     each tick, inside the tick's transaction, before
 *                        step: picks up admin parameter changes
 *                        (worlds.params_version; logged per tick in
 *                        world_params_applied) and claims admin shocks;
 *                        with replay, reads what that tick recorded instead
 *   world_model_step     pure and deterministic: no I/O, randomness only
 *                        from lib/rng.h keyed by (seed, tick, stream, entity)
 *   world_model_persist  inside the tick's transaction: writes what changed
 *   world_model_payload  adds the public figures to tick:update
 *
 * Units: money in micro-USD (uusd) or satoshis, hashrate in TH/s,
 * temperatures in milli-degrees Celsius, ratios in basis points (bp).
 * See docs/ARCHITECTURE.md "World processes and the game clock".
 */
#ifndef BT_WORLD_H
#define BT_WORLD_H

#include <json-c/json.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "db.h"
#include "err.h"
#include "wevent.h"
#include "wparam.h"

#define WORLD_NREGIONS   6
#define WORLD_NTIERS     3  /* grid tiers 1 (interruptible) .. 3 (firm) */
#define WORLD_MAX_EVENTS 64 /* active events held at once; more are not drawn */
#define WORLD_MAX_SHOCKS 16 /* admin shocks claimed per tick */

enum world_shock_kind { WORLD_SHOCK_PRICE = 1, WORLD_SHOCK_EVENT = 2 };

struct world_shock {
    int64_t id;     /* world_shocks.id */
    int kind;       /* enum world_shock_kind */
    int64_t pct_bp; /* price: relative move in bp (-3000 = -30 %) */
    int type;       /* event: enum wevent_type */
    int region;     /* event: region index, -1 for global */
};

struct world_event {
    int64_t id;        /* per-world sequence, deterministic */
    int64_t type;      /* enum wevent_type */
    int64_t region;    /* region index, -1 for global */
    int64_t severity;  /* 1 .. 5 */
    int64_t magnitude; /* type-specific, see world_events.c */
    int64_t start_tick;
    int64_t resolution_tick; /* first tick at which it is no longer active */
};

struct world_region_state {
    int64_t energy_price_uusd;          /* USD per kWh x 1e6, this tick */
    int64_t demand_bp;                  /* daily demand multiplier this tick (10000 = 1) */
    int64_t noise_ppm;                  /* AR(1) log-noise of the price */
    int64_t spike_mult_bp;              /* current spike multiplier (10000 = none) */
    int64_t spike_until;                /* tick at which the spike ends */
    int64_t temp_mc;                    /* temperature (milli-degrees C) */
    int64_t anomaly_mc;                 /* slow climate anomaly (AR(1)) */
    int64_t dust_bp;                    /* airborne dust 0 .. 10000 */
    int64_t cooling_load_bp;            /* cooling power overhead multiplier (10000 = 1) */
    int64_t outage_until[WORLD_NTIERS]; /* tier i+1 is out while tick < this */
};

struct world_model {
    int64_t world_id;
    uint64_t seed;
    int64_t params_version;
    int64_t params[WP_COUNT];
    /* ---- simulated state (hashed, snapshotted) ---- */
    int64_t tick;                /* last computed tick */
    int64_t game_time_s;         /* game clock, unix seconds */
    int64_t price_uusd;          /* BTC price */
    int64_t price_prev_uusd;     /* at the previous tick */
    int64_t price_var_e9;        /* GARCH annualised variance x 1e9 */
    int64_t row_hashrate_ths;    /* rest of the world */
    int64_t player_hashrate_ths; /* players' total, set by other features */
    int64_t difficulty;
    int64_t height;
    int64_t epoch_start_height; /* first block of the retarget period */
    int64_t epoch_start_time_s;
    int64_t blocks_last_tick;
    int64_t fee_noise_ppm; /* AR(1) log-noise of the fee share */
    int64_t fee_share_bp;
    int64_t next_event_id;
    struct world_region_state regions[WORLD_NREGIONS];
    int64_t nevents;
    struct world_event events[WORLD_MAX_EVENTS]; /* active, by id */
    /* ---- bookkeeping (not hashed) ---- */
    uint32_t dirty_regions; /* regions changed by the last step (bit i) */
    int nshocks;            /* inputs claimed by sync, consumed by step */
    struct world_shock shocks[WORLD_MAX_SHOCKS];
};

/* ---- the contract with the tick engine ---- */
int world_model_load(struct world_model *wm, struct db *db, struct arena *a, int64_t world_id,
                     struct bt_err *err);
int world_model_sync(struct world_model *wm, struct db *db, struct arena *a, int64_t tick,
                     bool replay, struct bt_err *err);
void world_model_step(struct world_model *wm, uint64_t seed, int64_t tick, int threads);
int world_model_persist(const struct world_model *wm, struct db *db, struct arena *a, int64_t tick,
                        struct bt_err *err);
void world_model_hash(const struct world_model *wm, crypto_generichash_state *h);
void world_model_payload(const struct world_model *wm, struct json_object *payload);
/* Full snapshot; caller owns the result. */
struct json_object *world_model_to_json(const struct world_model *wm);
int world_model_from_json(struct world_model *wm, struct json_object *j, struct bt_err *err);
void world_model_free(struct world_model *wm);

/* A fresh world at its start (game clock 2025-01-01, realistic network). */
void world_model_init(struct world_model *wm, int64_t world_id, uint64_t seed, int64_t tick);

/* ---- read accessors for other features ---- */
int world_region_index(const char *id); /* -1 when unknown */
const char *world_region_id(int region);
int64_t world_model_price_uusd(const struct world_model *wm);
int64_t world_model_network_hashrate_ths(const struct world_model *wm);
int64_t world_model_difficulty(const struct world_model *wm);
int64_t world_model_subsidy_sats(const struct world_model *wm);
int64_t world_model_block_fees_sats(const struct world_model *wm); /* per block, now */
int64_t world_model_blocks_last_tick(const struct world_model *wm);
int64_t world_model_energy_price_uusd(const struct world_model *wm, int region);
int64_t world_model_cooling_load_bp(const struct world_model *wm, int region);
bool world_model_outage(const struct world_model *wm, int region, int tier); /* tier 1..3 */
/* The players' total hashrate, an input set before step by other features. */
void world_model_set_player_hashrate(struct world_model *wm, int64_t ths);

/* ---- pure formulas (exposed for tests and other features) ---- */
int64_t world_subsidy_at(int64_t height);
/* New difficulty after a period that took actual_s instead of expected_s,
 * with Bitcoin's clamp of the factor to [1/4, 4]. */
int64_t world_retarget(int64_t difficulty, int64_t actual_s, int64_t expected_s);

#endif
