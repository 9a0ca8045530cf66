/*
 * world_internal.h - what the world process files share with each other
 * and with tests/unit/test_world.c; not for other features (use world.h).
 */
#ifndef BT_WORLD_INTERNAL_H
#define BT_WORLD_INTERNAL_H

#include "world.h"

#define WORLD_SECONDS_PER_YEAR 31557600.0 /* Julian year */
#define WORLD_BLOCK_TARGET_S   600
#define WORLD_RETARGET_BLOCKS  2016
#define WORLD_HALVING_BLOCKS   210000

/* Static description of a region (world_region.c). */
struct world_region_def {
    const char *id, *name, *climate;
    int64_t base_uusd;       /* typical industrial price, USD/kWh x 1e6 */
    int64_t cap_uusd;        /* market price cap */
    int utc_offset_min;      /* local time for the demand curve */
    int64_t mean_mc;         /* annual mean temperature */
    int64_t seasonal_mc;     /* seasonal half-swing */
    int64_t daily_mc;        /* day/night half-swing */
    int hemisphere;          /* +1 north, -1 south (season phase) */
    int64_t reliability_bp;  /* grid reliability, 10000 = perfect */
    int64_t demand_amp_pct;  /* daily demand swing relative to the curve */
    int64_t spikes_per_year; /* price spikes (before the spike parameter) */
    bool arid;               /* dust storms possible */
};

extern const struct world_region_def world_regions[WORLD_NREGIONS];

/* Rounds x to the nearest integer (ties away from zero) clamped to
 * [lo, hi]; NaN maps to lo.  The only way a double enters the state. */
int64_t world_round(double x, int64_t lo, int64_t hi);

/* Game seconds per tick as a double, and that span in years. */
double world_dt_years(const struct world_model *wm);

/* Per-tick probability (ppm) of something that happens per_year times a
 * year on average, scaled by pct percent. */
int64_t world_rate_ppm(const struct world_model *wm, double per_year, int64_t pct);

/* The model's integer fields by name, in canonical order: the hash, the
 * snapshots and the SQL column lists (tickd/world_store.c) all follow it. */
struct world_field {
    const char *name;
    size_t off;
};
extern const struct world_field world_state_fields[]; /* in struct world_model */
extern const size_t world_nstate_fields;
extern const struct world_field world_region_fields[]; /* in struct world_region_state */
extern const size_t world_nregion_fields;
extern const struct world_field world_event_fields[]; /* in struct world_event */
extern const size_t world_nevent_fields;

/* The int64 a field names inside base. */
int64_t *world_field_slot(const void *base, const struct world_field *f);

/* Whole ticks (>= 1) covering a span of game seconds. */
int64_t world_ticks_for(const struct world_model *wm, double seconds);

/* ---- processes, in the order world_model_step runs them ---- */
void world_events_step(struct world_model *wm, uint64_t seed, int64_t tick);
void world_price_step(struct world_model *wm, uint64_t seed, int64_t tick);
void world_network_step(struct world_model *wm, uint64_t seed, int64_t tick);
void world_region_step(struct world_model *wm, int region, uint64_t seed, int64_t tick);

/* ---- formulas the tests look at ---- */
/* Demand multiplier (bp) of a region at a local second of the day. */
int64_t world_demand_bp(const struct world_model *wm, int region, int64_t local_s);
/* Hour (0..23) at which the base demand curve peaks. */
int world_demand_peak_hour(void);
/* Per-tick odds (ppm) that tier (1..3) of a region goes out now. */
int64_t world_outage_ppm(const struct world_model *wm, int region, int tier);
/* Per-tick odds (ppm) that a natural event of type starts in region (-1
 * for global types) given the current state; 0 when its conditions fail. */
int64_t world_event_chance_ppm(const struct world_model *wm, int type, int region);
/* The active event of type in region (-1 = global), or NULL. */
const struct world_event *world_event_active(const struct world_model *wm, int type, int region);
/* Seasonal temperature (C) of a region at the model's game time: the
 * annual cycle only, no daily swing, anomaly or events. */
double world_seasonal_temp_c(const struct world_model *wm, int region);
/* Seasonal + daily temperature of a region at the model's game time,
 * without anomaly or events. */
int64_t world_base_temp_mc(const struct world_model *wm, int region);

#endif
