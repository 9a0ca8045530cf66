/*
 * mining_catalog.c - the mining game content and the rules built on it.
 *
 * The default tables below are the same rows migrations/0007_mining.sql
 * inserts (rig_models, cooling_types, grid_tiers, energy_contract_kinds,
 * mining_params); admins tune the database copy and tickd loads it into a
 * struct mining_catalog, so these defaults only serve tests, benchmarks and
 * a database that has not been seeded.  Figures are vendor-like numbers from
 * /work/shared/GAME-DATA.md (hashrate, power, J/TH, USD 10-25 per TH/s new).
 *
 * The validation functions are pure: the site handlers call them with what
 * they read from PostgreSQL (pre-check), tickd with its state (authoritative
 * check), and both get the same reason codes and prices.
 */
#include "mining.h"

#include <string.h>

#define MASK_ALL       ((1u << MINING_AIR) | (1u << MINING_HYDRO) | (1u << MINING_IMMERSION))
#define MASK_WATER     ((1u << MINING_HYDRO) | (1u << MINING_IMMERSION))
#define MASK_IMMERSION (1u << MINING_IMMERSION)
#define USD(x)         ((int64_t)(x)*1000000)

/* id, name, year, GH/s, W, price, life days, AFR, hazard when worn, loss when worn, cooling */
static const struct mining_model default_models[] = {
    {"s9", "Antminer S9", 2016, 13500, 1320, USD(45), 1095, 150000, 5000000, 200000, MASK_ALL},
    {"s17pro", "Antminer S17 Pro", 2019, 53000, 2094, USD(300), 1460, 120000, 4500000, 180000,
     MASK_ALL},
    {"m30s", "Whatsminer M30S", 2020, 88000, 3344, USD(700), 1825, 70000, 3500000, 150000,
     MASK_ALL},
    {"s19", "Antminer S19", 2020, 95000, 3250, USD(900), 1825, 80000, 4000000, 150000, MASK_ALL},
    {"m50s", "Whatsminer M50S", 2022, 126000, 3276, USD(1700), 2190, 55000, 3000000, 120000,
     MASK_ALL},
    {"s19xp", "Antminer S19 XP", 2022, 140000, 3010, USD(2100), 1825, 60000, 3500000, 120000,
     MASK_ALL},
    {"s21", "Antminer S21", 2023, 200000, 3500, USD(3600), 2190, 45000, 3000000, 100000, MASK_ALL},
    {"s21pro", "Antminer S21 Pro", 2024, 234000, 3510, USD(4900), 2190, 40000, 3000000, 100000,
     MASK_ALL},
    {"s21hyd", "Antminer S21 Hydro", 2024, 335000, 5360, USD(5900), 2555, 35000, 2500000, 80000,
     MASK_WATER},
    {"s21xpimm", "Antminer S21 XP Immersion", 2024, 300000, 3900, USD(7200), 2555, 30000, 2500000,
     80000, MASK_IMMERSION},
};

/* id, PUE, wear, hazard, heat sensitivity, OC headroom, slots/MW.  A site's
 * build price is not content of this module: site_cost_parts (0005, the
 * sites phase) is its one source; cooling and tier give the site's shape. */
static const struct mining_cooling_type default_cooling[MINING_NCOOLING] = {
    {"air", 1150000, 1000000, 1000000, 1000000, 100000, 250},
    {"hydro", 1080000, 800000, 800000, 500000, 200000, 180},
    {"immersion", 1050000, 600000, 600000, 300000, 300000, 220},
};

/* tier, capacity kW, outage multiplier */
static const struct mining_grid_tier default_tiers[MINING_NTIERS] = {
    {1, 500, 2000000},
    {2, 2000, 1000000},
    {3, 10000, 400000},
};

/* price, DR threshold, DR credit (all x reference price), term bounds in ticks */
static const struct mining_contract_terms default_terms[MINING_NCONTRACT] = {
    [MINING_SPOT] = {1000000, 0, 0, 0, 0},
    [MINING_FIXED] = {1100000, 0, 0, 10, 1000000},
    [MINING_DEMAND_RESPONSE] = {850000, 2000000, 500000, 10, 1000000},
};

static const char *const region_names[MINING_NREGIONS] = {"texas",      "quebec",   "iceland",
                                                          "kazakhstan", "paraguay", "norway"};
static const char *const firmware_names[MINING_NFIRMWARE] = {"eco", "stock", "overclock"};
static const char *const contract_names[MINING_NCONTRACT] = {"spot", "fixed", "demand_response"};

void mining_catalog_default(struct mining_catalog *c)
{
    memset(c, 0, sizeof(*c));
    c->nmodels = (int)BT_ARRAY_LEN(default_models);
    memcpy(c->models, default_models, sizeof(default_models));
    memcpy(c->cooling, default_cooling, sizeof(default_cooling));
    memcpy(c->tiers, default_tiers, sizeof(default_tiers));
    memcpy(c->terms, default_terms, sizeof(default_terms));
    c->maint_service_ppm = 20000;
    c->maint_repair_ppm = 250000;
    c->maint_restore_ppm = 700000;
    c->maint_downtime_secs = 6 * 3600;
    c->nominal_heat_ppm = MINING_PPM;
}

static int name_index(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int mining_model_find(const struct mining_catalog *c, const char *id)
{
    if (!id)
        return -1;
    for (int i = 0; i < c->nmodels; i++)
        if (strcmp(c->models[i].id, id) == 0)
            return i;
    return -1;
}

int mining_region_parse(const char *s)
{
    return name_index(region_names, MINING_NREGIONS, s);
}

int mining_cooling_parse(const char *s)
{
    for (int i = 0; s && i < MINING_NCOOLING; i++)
        if (strcmp(default_cooling[i].id, s) == 0)
            return i;
    return -1;
}

int mining_firmware_parse(const char *s)
{
    return name_index(firmware_names, MINING_NFIRMWARE, s);
}

int mining_contract_parse(const char *s)
{
    return name_index(contract_names, MINING_NCONTRACT, s);
}

const char *mining_region_name(int r)
{
    return r >= 0 && r < MINING_NREGIONS ? region_names[r] : "?";
}

const char *mining_cooling_name(int c)
{
    return c >= 0 && c < MINING_NCOOLING ? default_cooling[c].id : "?";
}

const char *mining_firmware_name(int f)
{
    return f >= 0 && f < MINING_NFIRMWARE ? firmware_names[f] : "?";
}

const char *mining_contract_name(int k)
{
    return k >= 0 && k < MINING_NCONTRACT ? contract_names[k] : "?";
}

/* Eco trades hashrate for much less power and wear; overclock uses the
 * cooling's headroom h: hashrate x(1+h), power x(1+1.6h) (efficiency gets
 * worse), wear x(1+5h), failure rate x(1+6h). */
void mining_fw_factors(const struct mining_catalog *c, int firmware, int cooling,
                       struct mining_fw_factors *out)
{
    int32_t h = c->cooling[cooling].oc_headroom_ppm;

    switch (firmware) {
    case MINING_ECO:
        *out = (struct mining_fw_factors){850000, 720000, 700000, 700000};
        break;
    case MINING_OVERCLOCK:
        *out = (struct mining_fw_factors){MINING_PPM + h, MINING_PPM + h * 16 / 10,
                                          MINING_PPM + 5 * h, MINING_PPM + 6 * h};
        break;
    default:
        *out = (struct mining_fw_factors){MINING_PPM, MINING_PPM, MINING_PPM, MINING_PPM};
    }
}

/* ---- prices ---- */

int64_t mining_rig_power_w(const struct mining_catalog *c, int model, int firmware, int cooling,
                           int64_t count)
{
    struct mining_fw_factors f;
    __int128 p;

    mining_fw_factors(c, firmware, cooling, &f);
    p = (__int128)count * c->models[model].power_w * f.power_ppm * c->cooling[cooling].pue_ppm;
    return (int64_t)((p + (__int128)MINING_PPM * MINING_PPM - 1) /
                     ((__int128)MINING_PPM * MINING_PPM));
}

void mining_site_shape(const struct mining_catalog *c, int tier, int cooling, int64_t *capacity_w,
                       int32_t *slots)
{
    int64_t kw = c->tiers[tier - 1].capacity_kw;

    *capacity_w = kw * 1000;
    *slots = (int32_t)(kw * c->cooling[cooling].slots_per_mw / 1000);
}

void mining_rig_nominal(const struct mining_catalog *c, int model, int firmware, int cooling,
                        int64_t online, int64_t wear_ppm, int64_t *hash_ghs, int64_t *power_w)
{
    struct mining_fw_factors f;
    const struct mining_model *md = &c->models[model];

    mining_fw_factors(c, firmware, cooling, &f);
    *hash_ghs = online * mining_worn_hash_ghs(md, md->hash_ghs * f.hash_ppm / MINING_PPM, wear_ppm);
    *power_w = mining_rig_power_w(c, model, firmware, cooling, online);
}

int64_t mining_energy_estimate(const struct mining_contract *c, int64_t tick, int64_t spot,
                               int64_t power_w, int64_t tick_secs)
{
    __int128 num;
    int64_t covered = 0;
    bool on = c->id && c->kind != MINING_SPOT && c->start_tick <= tick && tick < c->end_tick;

    if (on && c->kind == MINING_DEMAND_RESPONSE && spot > c->threshold_uusd_kwh)
        return 0;
    if (on)
        covered = power_w < c->capacity_w ? power_w : c->capacity_w;
    /* W x uusd/kWh x s / (1000 W/kW x 3600 s/h) */
    num =
        ((__int128)covered * (on ? c->price_uusd_kwh : 0) + (__int128)(power_w - covered) * spot) *
        tick_secs;
    return (int64_t)((num + 3600000 - 1) / 3600000);
}

int64_t mining_rig_cost(const struct mining_catalog *c, int model, int64_t count)
{
    return c->models[model].price_uusd * count;
}

int64_t mining_maintenance_cost(const struct mining_catalog *c, int model, int64_t count,
                                int64_t failed)
{
    int64_t price = c->models[model].price_uusd;

    return count * (price * c->maint_service_ppm / MINING_PPM) +
           failed * (price * c->maint_repair_ppm / MINING_PPM);
}

int64_t mining_maintenance_ticks(const struct mining_catalog *c, int64_t tick_secs)
{
    if (tick_secs <= 0)
        return 1;
    return (c->maint_downtime_secs + tick_secs - 1) / tick_secs;
}

/* ---- reasons ---- */

static const struct {
    const char *code, *text;
    int status;
} reasons[] = {
    [MINING_OK] = {"ok", "ok", 200},
    [MINING_BAD_COUNT] = {"bad_count", "count is out of range", 400},
    [MINING_UNKNOWN_MODEL] = {"unknown_model", "no such rig model in the catalog", 400},
    [MINING_BAD_TIER] = {"bad_tier", "grid tier must be 1, 2 or 3", 400},
    [MINING_BAD_COOLING] = {"bad_cooling", "cooling type must be air, hydro or immersion", 400},
    [MINING_BAD_REGION] = {"bad_region", "unknown region", 400},
    [MINING_BAD_FIRMWARE] = {"bad_firmware", "firmware must be eco, stock or overclock", 400},
    [MINING_MODEL_NEEDS_COOLING] = {"needs_cooling",
                                    "this rig model cannot run on the site's cooling", 409},
    [MINING_NO_SLOTS] = {"no_slots", "the site has not enough free rig slots", 409},
    [MINING_NO_POWER] = {"no_power", "the site's grid capacity cannot power these rigs", 409},
    [MINING_NO_CASH] = {"no_cash", "the company has not enough cash", 409},
    [MINING_BAD_CONTRACT] = {"bad_contract", "contract kind or term is not offered", 400},
    [MINING_NOTHING_TO_DO] = {"nothing_to_do", "nothing would change", 409},
    [MINING_RETIRED_MODEL] = {"retired_model", "this rig model is no longer sold", 400},
};

const char *mining_reason_code(enum mining_reason r)
{
    return (unsigned)r < BT_ARRAY_LEN(reasons) ? reasons[r].code : "unknown";
}

const char *mining_reason_text(enum mining_reason r)
{
    return (unsigned)r < BT_ARRAY_LEN(reasons) ? reasons[r].text : "unknown";
}

int mining_reason_err(enum mining_reason r, const char *field, struct bt_err *err)
{
    if (r == MINING_OK)
        return BT_OK;
    if ((unsigned)r >= BT_ARRAY_LEN(reasons))
        return err_internal(err, "mining reason %d", (int)r);
    if (reasons[r].status == 400) {
        err_field(err, field, reasons[r].code, "%s", reasons[r].text);
        return err_check_fields(err);
    }
    return err_set(err, reasons[r].status, "conflict", "%s (%s)", reasons[r].text, reasons[r].code);
}

/* ---- checks ---- */

enum mining_reason mining_check_rig_add(const struct mining_catalog *c, int cooling,
                                        int64_t capacity_w, int32_t slots,
                                        const struct mining_site_use *use, const char *model,
                                        int64_t count, int64_t cash_uusd, int64_t *cost)
{
    int m = mining_model_find(c, model);

    *cost = 0;
    if (m < 0)
        return MINING_UNKNOWN_MODEL;
    if (c->models[m].retired)
        return MINING_RETIRED_MODEL;
    if (count < 1 || count > MINING_MAX_COUNT)
        return MINING_BAD_COUNT;
    if (!(c->models[m].cooling_mask & (1u << cooling)))
        return MINING_MODEL_NEEDS_COOLING;
    if (use->slots_used + count > slots)
        return MINING_NO_SLOTS;
    if (use->power_w + mining_rig_power_w(c, m, MINING_STOCK, cooling, count) > capacity_w)
        return MINING_NO_POWER;
    *cost = mining_rig_cost(c, m, count);
    return cash_uusd < *cost ? MINING_NO_CASH : MINING_OK;
}

enum mining_reason mining_check_firmware(const struct mining_catalog *c, int cooling,
                                         int64_t capacity_w, const struct mining_site_use *use,
                                         int model, int64_t count, int from_fw, const char *to_fw)
{
    int to = mining_firmware_parse(to_fw);
    int64_t p;

    if (to < 0)
        return MINING_BAD_FIRMWARE;
    if (to == from_fw)
        return MINING_NOTHING_TO_DO;
    p = use->power_w - mining_rig_power_w(c, model, from_fw, cooling, count) +
        mining_rig_power_w(c, model, to, cooling, count);
    return p > capacity_w ? MINING_NO_POWER : MINING_OK;
}

enum mining_reason mining_check_maintenance(const struct mining_catalog *c, int model,
                                            int64_t count, int64_t failed, int64_t wear_ppm,
                                            int64_t cash_uusd, int64_t *cost)
{
    *cost = 0;
    if (failed == 0 && wear_ppm == 0)
        return MINING_NOTHING_TO_DO;
    *cost = mining_maintenance_cost(c, model, count, failed);
    return cash_uusd < *cost ? MINING_NO_CASH : MINING_OK;
}

enum mining_reason mining_contract_quote(const struct mining_catalog *c, const char *kind,
                                         int64_t ref_uusd_kwh, int64_t capacity_w, int64_t start,
                                         int64_t ticks, struct mining_contract *out)
{
    int k = mining_contract_parse(kind);
    const struct mining_contract_terms *t;

    memset(out, 0, sizeof(*out));
    if (k <= MINING_SPOT || ref_uusd_kwh <= 0 || capacity_w <= 0)
        return MINING_BAD_CONTRACT;
    t = &c->terms[k];
    if (ticks < t->min_ticks || ticks > t->max_ticks)
        return MINING_BAD_CONTRACT;
    out->kind = (uint8_t)k;
    out->price_uusd_kwh = ref_uusd_kwh * t->price_ppm / MINING_PPM;
    out->capacity_w = capacity_w;
    out->start_tick = start;
    out->end_tick = start + ticks;
    if (k == MINING_DEMAND_RESPONSE) {
        out->threshold_uusd_kwh = ref_uusd_kwh * t->threshold_ppm / MINING_PPM;
        out->credit_uusd_kwh = ref_uusd_kwh * t->credit_ppm / MINING_PPM;
    }
    return MINING_OK;
}
