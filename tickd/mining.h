/*
 * mining.h - the pure mining and energy model of a world.
 *
 * What lives here: the game content (rig catalog, cooling types, grid tiers,
 * firmware profiles, contract terms), the mining state of a world (companies,
 * sites, rig groups, energy contracts, wear indexes), the per-tick step that
 * turns an environment (network hashrate, block reward, regional energy
 * prices, outages, heat) and the companies' available cash into per-site and
 * per-company results, the validation rules shared by the site handlers and
 * tickd, and canonical hashing / JSON snapshots.
 *
 * What never happens here: I/O of any kind (no database, no Redis, no
 * clock), floating point in anything that becomes money or state, or
 * dependence on iteration order or thread count.  Loading from and persisting
 * to PostgreSQL belongs to the tick phase that wraps this module.
 *
 * Units (all integers):
 *   hashrate   GH/s            (1 TH/s = 1,000 GH/s; 1 EH/s = 1e9 GH/s)
 *   power      W               energy Wh (reported), J (internally)
 *   money      micro-USD (uusd) and satoshis (sats)
 *   prices     micro-USD per kWh
 *   fractions  ppm (1,000,000 = 100 %)
 *   wear       ppm of a rig's design life used (1,000,000 = worn out)
 *   time       ticks; game seconds per tick come from the environment
 * See docs/ARCHITECTURE.md, "Mining and energy model", for the formulas.
 */
#ifndef BT_MINING_H
#define BT_MINING_H

#include <json-c/json.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define MINING_PPM 1000000

/* Mirrors the order of region_ids[] in lib/region.h (contract: exactly these six). */
enum mining_region {
    MINING_TEXAS,
    MINING_QUEBEC,
    MINING_ICELAND,
    MINING_KAZAKHSTAN,
    MINING_PARAGUAY,
    MINING_NORWAY,
    MINING_NREGIONS
};

enum mining_cooling { MINING_AIR, MINING_HYDRO, MINING_IMMERSION, MINING_NCOOLING };
enum mining_firmware { MINING_ECO, MINING_STOCK, MINING_OVERCLOCK, MINING_NFIRMWARE };
enum mining_contract_kind { MINING_SPOT, MINING_FIXED, MINING_DEMAND_RESPONSE, MINING_NCONTRACT };

#define MINING_NTIERS     3      /* grid tiers 1..3 */
#define MINING_MAX_MODELS 32     /* catalog rows; admins append, never renumber */
#define MINING_MAX_COUNT  100000 /* rigs in one add / group */

/* ---- content (defaults in mining_catalog.c, mirrored by migrations/0007_mining.sql) ---- */

struct mining_model {
    char id[24];   /* "s21pro" */
    char name[48]; /* "Antminer S21 Pro" */
    int32_t year;
    int64_t hash_ghs;        /* nameplate hashrate */
    int64_t power_w;         /* nameplate power at the wall */
    int64_t price_uusd;      /* new-unit price */
    int32_t lifetime_days;   /* design life at stock firmware, nominal heat, air */
    int32_t afr_ppm;         /* annual failure rate of a new rig (per rig per year) */
    int32_t wear_hazard_ppm; /* failure-rate multiplier of a worn-out rig (>= 1e6) */
    int32_t wear_loss_ppm;   /* hashrate lost at full wear */
    uint8_t cooling_mask;    /* bit (1 << enum mining_cooling) set = allowed */
    bool retired;            /* rig_models.available = false: installed ones run, none sold */
};

struct mining_cooling_type {
    char id[16];             /* "air", "hydro", "immersion" */
    int32_t pue_ppm;         /* facility power / IT power at nominal heat */
    int32_t wear_ppm;        /* wear-rate multiplier */
    int32_t hazard_ppm;      /* failure-rate multiplier */
    int32_t heat_sens_ppm;   /* how much regional heat reaches the rigs */
    int32_t oc_headroom_ppm; /* extra hashrate of the overclock profile */
    int32_t slots_per_mw;    /* rig slots per MW of grid capacity */
};

struct mining_grid_tier {
    int32_t tier;            /* 1..3 */
    int64_t capacity_kw;     /* grid connection */
    int32_t outage_mult_ppm; /* for the world model's outage draws (reliability) */
};

/* Multipliers of a firmware profile on a given cooling type. */
struct mining_fw_factors {
    int32_t hash_ppm, power_ppm, wear_ppm, hazard_ppm;
};

/* Terms the game offers for a contract, relative to the regional reference price. */
struct mining_contract_terms {
    int32_t price_ppm;            /* contract price = reference * price_ppm */
    int32_t threshold_ppm;        /* demand response: curtailed when spot > reference * this */
    int32_t credit_ppm;           /* demand response: credit per curtailed kWh = reference * this */
    int64_t min_ticks, max_ticks; /* allowed term length */
};

struct mining_catalog {
    int nmodels;
    struct mining_model models[MINING_MAX_MODELS];
    struct mining_cooling_type cooling[MINING_NCOOLING];
    struct mining_grid_tier tiers[MINING_NTIERS];
    struct mining_contract_terms terms[MINING_NCONTRACT];
    int32_t maint_service_ppm;   /* maintenance: cost per rig serviced, of its price */
    int32_t maint_repair_ppm;    /* maintenance: cost per failed rig repaired, of its price */
    int32_t maint_restore_ppm;   /* maintenance: share of wear removed */
    int64_t maint_downtime_secs; /* maintenance: game seconds offline */
    int32_t nominal_heat_ppm;    /* heat used by validation (1e6) */
};

/* Fills *c with the built-in defaults (the same rows as 0007_mining.sql). */
void mining_catalog_default(struct mining_catalog *c);
/* Index of a model id, or -1. */
int mining_model_find(const struct mining_catalog *c, const char *id);
/* Enum value of a name, or -1 ("texas", "air", "eco", "fixed", ...). */
int mining_region_parse(const char *s);
int mining_cooling_parse(const char *s);
int mining_firmware_parse(const char *s);
int mining_contract_parse(const char *s);
const char *mining_region_name(int r);
const char *mining_cooling_name(int c);
const char *mining_firmware_name(int f);
const char *mining_contract_name(int k);
void mining_fw_factors(const struct mining_catalog *c, int firmware, int cooling,
                       struct mining_fw_factors *out);

/* ---- state ---- */

struct mining_contract {
    int64_t id;                   /* energy_contracts.id, 0 = none (spot) */
    uint8_t kind;                 /* enum mining_contract_kind */
    int64_t price_uusd_kwh;       /* fixed / demand-response price */
    int64_t capacity_w;           /* power covered by the contract; the rest buys spot */
    int64_t start_tick, end_tick; /* active for start <= tick < end */
    int64_t threshold_uusd_kwh;   /* demand response: curtail when spot is above */
    int64_t credit_uusd_kwh;      /* demand response: credit per curtailed kWh */
};

struct mining_company {
    int64_t id;
    int64_t rem_nsat; /* yield remainder carried to the next tick, in 1e-9 sat */
    /* Persistence only, not state (neither hashed nor in snapshots): the
     * remainder stored in mining_remainders (0016; tickd/mining_phase.c). */
    int64_t rem_saved;
};

struct mining_site {
    int64_t id;
    int64_t company_id;
    int32_t company;               /* index into state companies */
    uint8_t region, tier, cooling; /* tier 1..3 */
    bool dirty;                    /* changed since the last persist */
    int64_t capacity_w;
    int32_t slots;
    int64_t created_tick;
    struct mining_contract contract;
    int64_t slots_used, committed_w; /* derived, kept by the group functions */
    int64_t uptime_sum_ppm;          /* sum of per-tick uptime since creation */
    int64_t ticks_run;
};

/* A batch of identical rigs on one site.  Wear is not stored per tick: it is
 * wear0_ppm plus the growth of its wear class's index since windex0 (see
 * mining_group_wear). */
struct mining_group {
    int64_t id;
    int64_t site_id;
    int32_t site;   /* index into state sites */
    uint16_t model; /* index into the catalog */
    uint8_t firmware;
    bool dirty;
    int32_t count;     /* rigs installed */
    int32_t failed;    /* of which failed (no power, no hash) */
    int64_t wear0_ppm; /* wear at the anchor */
    int64_t windex0;   /* wear index of the group's class at the anchor */
    int64_t installed_tick;
    int64_t maint_until; /* offline for maintenance while tick < maint_until */
};

/* What the world model says about this tick. */
struct mining_env {
    uint64_t seed;
    int64_t tick;
    int64_t tick_secs;    /* game seconds in one tick (> 0) */
    int64_t net_hash_ghs; /* network hashrate (> 0) */
    int64_t blocks_milli; /* blocks found this tick x 1000 (expected or drawn) */
    int64_t reward_sats;  /* subsidy + fees per block */
    int64_t spot_uusd_kwh[MINING_NREGIONS];
    int32_t outage_ppm[MINING_NREGIONS][MINING_NTIERS]; /* share of the tick without grid */
    int32_t heat_ppm[MINING_NREGIONS];                  /* cooling load, 1e6 = nominal */
};

struct mining_site_result {
    int64_t hash_ghs;    /* effective hashrate this tick */
    int64_t nominal_ghs; /* online rigs after firmware and wear, before downtime */
    int64_t sats;        /* informational: floor of this site's exact yield */
    int64_t energy_wh;
    int64_t cost_uusd;       /* informational: ceil of this site's exact cost */
    int64_t credit_uusd;     /* demand-response credit */
    int32_t uptime_ppm;      /* share of the tick the site ran */
    int32_t power_limit_ppm; /* < 1e6 when heat pushed the site past its grid capacity */
    int32_t failures;
    int32_t wear_ppm;       /* rig-weighted mean wear after the tick */
    int32_t wear_delta_ppm; /* rig-weighted mean wear growth this tick */
    bool curtailed;
    /* step scratch (valid after the step, not meaningful to callers) */
    int64_t it_power_mw, fac_power_mw, run_ppm;
};

struct mining_company_result {
    int64_t hash_ghs;
    int64_t sats; /* authoritative: credit this to the company */
    int64_t energy_wh;
    int64_t cost_uusd;    /* authoritative: debit this (never above the cash given) */
    int64_t credit_uusd;  /* authoritative: demand-response credit to pay */
    int32_t throttle_ppm; /* < 1e6 when the company could not pay full energy */
    int32_t uptime_ppm;   /* hashrate-weighted mean of its sites' uptime */
    int32_t failures;
};

struct mining_failure {
    int64_t company_id, site_id, group_id;
    int32_t count;
};

struct mining_thread;

struct mining_state {
    struct mining_catalog cat;
    int64_t tick; /* last tick stepped */
    /* Cumulative wear index per (region, cooling, firmware): nominal seconds x ppm. */
    int64_t windex[MINING_NREGIONS][MINING_NCOOLING][MINING_NFIRMWARE];

    int ncompanies, nsites, ngroups;
    int cap_companies, cap_sites, cap_groups;
    struct mining_company *companies;
    struct mining_site *sites;
    struct mining_group *groups;

    /* Results of the last step, indexed like companies[] / sites[]. */
    struct mining_company_result *company_res;
    struct mining_site_result *site_res;
    struct mining_failure *failures; /* sorted by group id */
    int nfailures, cap_failures;

    /* Private: id maps and the company -> sites -> groups index. */
    struct mining_idmap *company_ids, *site_ids, *group_ids;
    bool index_stale;
    int32_t *comp_site_off, *comp_sites, *site_group_off, *site_groups;
    int32_t *gfail; /* failures drawn per group in the current step */
};

/* An empty state with the given catalog (copied).  BT_ERR on out of memory. */
int mining_init(struct mining_state *s, const struct mining_catalog *cat, struct bt_err *err);
void mining_free(struct mining_state *s);
/* Removes every entity and zeroes the wear indexes and tick; keeps the catalog. */
void mining_clear(struct mining_state *s);

/* Index of an entity by id, or -1. */
int mining_company_find(const struct mining_state *s, int64_t id);
int mining_site_find(const struct mining_state *s, int64_t id);
int mining_group_find(const struct mining_state *s, int64_t id);

/* Adding entities (loading or applying intents).  Ids must be unique; the
 * referenced company / site must exist.  Return the new index or BT_ERR. */
int mining_company_add(struct mining_state *s, int64_t id, int64_t rem_nsat, struct bt_err *err);
/* *site: id, company_id, region, tier, cooling, created_tick (+ optional loaded
 * contract/uptime); capacity and slots are derived from the catalog when 0. */
int mining_site_add(struct mining_state *s, const struct mining_site *site, struct bt_err *err);
/* *g: id, site_id, model, firmware, count (+ loaded failed/wear0/windex0/...);
 * with windex0 < 0 the group is anchored at the current index (a new install). */
int mining_group_add(struct mining_state *s, const struct mining_group *g, struct bt_err *err);

/* Removes `count` rigs of a group (failed ones first); the group disappears at 0.
 * The last group moves into its slot (indices change, ids do not). */
void mining_group_remove(struct mining_state *s, int gi, int32_t count);
/* Changes the firmware profile, re-anchoring wear at the current value. */
void mining_group_set_firmware(struct mining_state *s, int gi, int firmware);
/* Repairs failed rigs and removes part of the wear; offline for downtime_ticks from `tick`. */
void mining_group_maintain(struct mining_state *s, int gi, int64_t tick, int64_t downtime_ticks);
/* Signs (kind != SPOT) or cancels (kind == SPOT) a site's contract. */
void mining_site_set_contract(struct mining_state *s, int si, const struct mining_contract *c);

/* Physically orders sites by company and groups by site (memory locality
 * for the step: a world loaded in that order needs no call).  Indexes of
 * sites and groups change, ids do not; the last step's site results no
 * longer line up.  Meant after loading and now and then after many adds. */
int mining_reorder(struct mining_state *s, struct bt_err *err);

/* Wear (ppm, 0..1e6) of rigs of `model` anchored at (wear0, windex0) when
 * their class's wear index is `index`. */
int64_t mining_wear(const struct mining_catalog *cat, int model, int64_t wear0_ppm, int64_t windex0,
                    int64_t index);
/* Hashrate of one rig of md whose firmware gives fw_hash_ghs, at wear_ppm. */
static inline int64_t mining_worn_hash_ghs(const struct mining_model *md, int64_t fw_hash_ghs,
                                           int64_t wear_ppm)
{
    return fw_hash_ghs * (MINING_PPM - md->wear_loss_ppm * wear_ppm / MINING_PPM) / MINING_PPM;
}
/* What `online` rigs deliver at nominal heat, for reads (the step is
 * authoritative): hashrate (GH/s) and facility power (W, with PUE). */
void mining_rig_nominal(const struct mining_catalog *c, int model, int firmware, int cooling,
                        int64_t online, int64_t wear_ppm, int64_t *hash_ghs, int64_t *power_w);
/* Energy cost (micro-USD, rounded up) of a site drawing power_w for one
 * tick of tick_secs at regional spot price `spot`, under contract c (id 0:
 * spot) as the step prices it; 0 when demand response curtails it. */
int64_t mining_energy_estimate(const struct mining_contract *c, int64_t tick, int64_t spot,
                               int64_t power_w, int64_t tick_secs);

/* Current wear of a group (ppm, capped at 1e6). */
int64_t mining_group_wear(const struct mining_state *s, const struct mining_group *g);

/*
 * One tick.  cash_uusd[i] is what company i (index into s->companies) can
 * spend on energy this tick (>= 0; NULL = unlimited).  Fills s->company_res,
 * s->site_res and s->failures, advances wear indexes, failures, remainders
 * and uptime counters, and sets s->tick = env->tick.  Deterministic: the
 * results depend only on the state, env and cash, never on array order or
 * `threads` (1..MINING_MAX_THREADS).  Returns BT_ERR only on out of memory
 * (state unchanged then) or an invalid env.
 */
#define MINING_MAX_THREADS 16
int mining_step(struct mining_state *s, const struct mining_env *env, const int64_t *cash_uusd,
                int threads, struct bt_err *err);

/* ---- validation and prices, shared by the site handlers and tickd ---- */

enum mining_reason {
    MINING_OK = 0,
    MINING_BAD_COUNT, /* count outside 1..MINING_MAX_COUNT or above what is installed */
    MINING_UNKNOWN_MODEL,
    MINING_BAD_TIER,
    MINING_BAD_COOLING,
    MINING_BAD_REGION,
    MINING_BAD_FIRMWARE,
    MINING_MODEL_NEEDS_COOLING, /* e.g. hydro-only units on an air site */
    MINING_NO_SLOTS,
    MINING_NO_POWER,
    MINING_NO_CASH,
    MINING_BAD_CONTRACT,
    MINING_NOTHING_TO_DO,
    MINING_RETIRED_MODEL, /* no longer sold (rig_models.available = false) */
};

/* Stable machine code ("no_slots") and a human sentence for a reason. */
const char *mining_reason_code(enum mining_reason r);
const char *mining_reason_text(enum mining_reason r);
/* Fills *err with a 409 (state conflicts: slots, power, cash) or 400 (bad
 * input) problem naming `field`; returns BT_ERR, or BT_OK for MINING_OK. */
int mining_reason_err(enum mining_reason r, const char *field, struct bt_err *err);

/* What a site already uses: slots taken and committed facility power (W) of
 * the rigs installed (failed ones included: they come back when repaired). */
struct mining_site_use {
    int64_t slots_used, power_w;
};
/* Power a batch commits: count x nameplate x firmware power x PUE (nominal heat). */
int64_t mining_rig_power_w(const struct mining_catalog *c, int model, int firmware, int cooling,
                           int64_t count);

void mining_site_shape(const struct mining_catalog *c, int tier, int cooling, int64_t *capacity_w,
                       int32_t *slots);
int64_t mining_rig_cost(const struct mining_catalog *c, int model, int64_t count);
int64_t mining_maintenance_cost(const struct mining_catalog *c, int model, int64_t count,
                                int64_t failed);
int64_t mining_maintenance_ticks(const struct mining_catalog *c, int64_t tick_secs);

enum mining_reason mining_check_rig_add(const struct mining_catalog *c, int cooling,
                                        int64_t capacity_w, int32_t slots,
                                        const struct mining_site_use *use, const char *model,
                                        int64_t count, int64_t cash_uusd, int64_t *cost);
enum mining_reason mining_check_firmware(const struct mining_catalog *c, int cooling,
                                         int64_t capacity_w, const struct mining_site_use *use,
                                         int model, int64_t count, int from_fw, const char *to_fw);
enum mining_reason mining_check_maintenance(const struct mining_catalog *c, int model,
                                            int64_t count, int64_t failed, int64_t wear_ppm,
                                            int64_t cash_uusd, int64_t *cost);
/* Quotes a contract of `kind` for `ticks` from `start`, priced off the
 * regional reference price; fills *out (capacity = the site's capacity). */
enum mining_reason mining_contract_quote(const struct mining_catalog *c, const char *kind,
                                         int64_t ref_uusd_kwh, int64_t capacity_w, int64_t start,
                                         int64_t ticks, struct mining_contract *out);
/* The site's use from the state (for tickd's authoritative checks); O(1). */
void mining_site_use(const struct mining_state *s, int si, struct mining_site_use *use);

/* ---- canonical hash and snapshots ---- */

/* Feeds a digest of the whole state into h; independent of array order. */
void mining_hash(const struct mining_state *s, crypto_generichash_state *h);
/* Full snapshot (entities sorted by id).  Caller owns the result (json_object_put). */
struct json_object *mining_to_json(const struct mining_state *s);
/* The catalog as JSON and back (a phase snapshots it beside the state, so a
 * replay uses the catalog of the live tick).  Caller owns the result. */
struct json_object *mining_catalog_to_json(const struct mining_catalog *c);
int mining_catalog_from_json(struct mining_catalog *c, struct json_object *j, struct bt_err *err);
/* Replaces s's entities with a snapshot's (s initialised with its catalog). */
int mining_from_json(struct mining_state *s, struct json_object *j, struct bt_err *err);

#endif
