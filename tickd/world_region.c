/*
 * world_region.c - the six energy regions: climate, the daily demand curve,
 * energy prices with noise and spikes, and grid outages by tier.
 *
 * Each region's step reads only shared read-only state (parameters, game
 * clock, events) and writes only its own struct, with randomness keyed by
 * the region index: regions can therefore run on any thread in any order.
 *
 *   temperature  T = mean + hemi * seasonal * cos(2 pi (year_frac - 201/365.25))
 *                    + daily * cos(2 pi (local_hour - 15) / 24) + anomaly + events
 *                (anomaly: AR(1), phi 0.995, sd 0.15 C per tick)
 *   cooling      load = 1 + 1.5 % per degree above 20 C + dust / 4
 *   demand       D(h) = 1 + amp * (curve(h) - 1), curve from DEMAND_CURVE_BP (peak 18:00 local)
 *   price        p = base * D * tempfactor(T) * exp(noise) * spike * emergency, clamped
 *                to [base / 5, cap]; tempfactor = 1 + 2 %/C above 28 C + 1 %/C below 0 C;
 *                noise: AR(1) on log, phi 0.95, sd energy_noise_bp per tick
 *   spikes       Poisson-thinned: spikes_per_year (x3 in peak demand) of x1.5..x(cap-bound)
 *                lasting 1-6 ticks
 *   outages      tier t per year = (10000 - reliability_bp) / 2 / {1, 4, 12}[t] x events
 *                (grid emergency x5, cold snap x3, heat wave x2); mean duration
 *                {4, 2, 1} game hours x U[0.5, 1.5]
 *
 * Figures: /work/shared/GAME-DATA.md (energy prices, ERCOT cap USD 5/kWh)
 * and public climate normals (rounded).
 */
#include "world_internal.h"
#include "rng.h"

#include <math.h>
#include <string.h>

#define TWO_PI          6.283185307179586
#define ANOMALY_PHI     0.995
#define ANOMALY_SD_MC   150.0
#define NOISE_PHI       0.95
#define DUST_DECAY      0.8
#define SUMMER_PEAK_DAY 201.0

const struct world_region_def world_regions[WORLD_NREGIONS] = {
    /* id, name, climate, base, cap, utc, mean, seasonal, daily, hemi, reliability, demand amp,
     * spikes/yr, arid */
    {"texas", "Texas (ERCOT)", "hot, semi-arid; summer heat and winter cold snaps", 40000, 5000000,
     -360, 20500, 9500, 6000, 1, 9970, 150, 40, true},
    {"quebec", "Quebec", "cold continental; stable hydro grid", 45000, 500000, -300, 5000, 15000,
     5000, 1, 9990, 60, 4, false},
    {"iceland", "Iceland", "cold subarctic; geothermal and hydro, limited capacity", 45000, 400000,
     0, 4500, 5500, 3000, 1, 9985, 40, 4, false},
    {"kazakhstan", "Kazakhstan", "extreme continental, arid; coal-heavy grid with shortages", 40000,
     800000, 300, 8000, 16000, 8000, 1, 9900, 120, 20, true},
    {"paraguay", "Paraguay", "hot subtropical; Itaipu hydro surplus, weak distribution grid", 35000,
     600000, -180, 23000, 6000, 6000, -1, 9930, 90, 12, true},
    {"norway", "Norway", "cold; northern hydro", 45000, 1000000, 60, 3000, 10000, 4000, 1, 9990, 70,
     4, false},
};

/* Base demand by local hour (bp): night trough, morning ramp, evening peak. */
static const int64_t DEMAND_CURVE_BP[24] = {
    8500,  8000,  7700,  7600,  7700,  8200,  9000,  9800,  10300, 10500, 10600, 10700,
    10800, 10900, 11100, 11300, 11600, 12000, 12300, 12100, 11600, 10800, 9900,  9100,
};

static const int64_t TIER_DIVISOR[WORLD_NTIERS] = {1, 4, 12};
static const int64_t TIER_DURATION_S[WORLD_NTIERS] = {4 * 3600, 2 * 3600, 3600};

int world_region_index(const char *id)
{
    int i;

    for (i = 0; i < WORLD_NREGIONS; i++)
        if (strcmp(world_regions[i].id, id) == 0)
            return i;
    return -1;
}

const char *world_region_id(int region)
{
    return region >= 0 && region < WORLD_NREGIONS ? world_regions[region].id : NULL;
}

int world_demand_peak_hour(void)
{
    int h, best = 0;

    for (h = 1; h < 24; h++)
        if (DEMAND_CURVE_BP[h] > DEMAND_CURVE_BP[best])
            best = h;
    return best;
}

int64_t world_demand_bp(const struct world_model *wm, int region, int64_t local_s)
{
    int64_t s = ((local_s % 86400) + 86400) % 86400, h = s / 3600, frac = s % 3600;
    int64_t curve =
        DEMAND_CURVE_BP[h] + (DEMAND_CURVE_BP[(h + 1) % 24] - DEMAND_CURVE_BP[h]) * frac / 3600;
    int64_t amp = world_regions[region].demand_amp_pct * wm->params[WP_DEMAND_AMP_PCT];

    return 10000 + (curve - 10000) * amp / 10000;
}

static int64_t local_second(const struct world_model *wm, int region)
{
    return wm->game_time_s + (int64_t)world_regions[region].utc_offset_min * 60;
}

double world_seasonal_temp_c(const struct world_model *wm, int region)
{
    const struct world_region_def *d = &world_regions[region];
    double year = fmod((double)wm->game_time_s / WORLD_SECONDS_PER_YEAR, 1.0);

    return ((double)d->mean_mc + d->hemisphere * (double)d->seasonal_mc *
                                     cos(TWO_PI * (year - SUMMER_PEAK_DAY / 365.25))) /
           1000.0;
}

int64_t world_base_temp_mc(const struct world_model *wm, int region)
{
    double day = (double)(((local_second(wm, region) % 86400) + 86400) % 86400) / 86400.0;

    return world_round(world_seasonal_temp_c(wm, region) * 1000.0 +
                           (double)world_regions[region].daily_mc *
                               cos(TWO_PI * (day - 15.0 / 24.0)),
                       -100000, 100000);
}

/* Multiplier (bp) of events of type active in region, 10000 when none. */
static int64_t outage_event_factor(const struct world_model *wm, int region)
{
    int64_t f = 1;

    if (world_event_active(wm, WEV_GRID_EMERGENCY, region))
        f *= 5;
    if (world_event_active(wm, WEV_COLD_SNAP, region))
        f *= 3;
    if (world_event_active(wm, WEV_HEAT_WAVE, region))
        f *= 2;
    return f;
}

int64_t world_outage_ppm(const struct world_model *wm, int region, int tier)
{
    double per_year = (double)(10000 - world_regions[region].reliability_bp) / 2.0 /
                      (double)TIER_DIVISOR[tier - 1] * (double)outage_event_factor(wm, region);

    return world_rate_ppm(wm, per_year, wm->params[WP_OUTAGE_RATE_PCT]);
}

static void step_climate(struct world_model *wm, int r, uint64_t seed, int64_t tick)
{
    struct world_region_state *s = &wm->regions[r];
    struct rng_key k = {seed, tick, RNG_CLIMATE, (uint64_t)r};
    const struct world_event *heat = world_event_active(wm, WEV_HEAT_WAVE, r);
    const struct world_event *cold = world_event_active(wm, WEV_COLD_SNAP, r);
    const struct world_event *dust = world_event_active(wm, WEV_DUST_STORM, r);
    int64_t hot;

    s->anomaly_mc = world_round(
        ANOMALY_PHI * (double)s->anomaly_mc + ANOMALY_SD_MC * rng_normal(&k, 0), -20000, 20000);
    s->temp_mc = world_base_temp_mc(wm, r) + s->anomaly_mc + (heat ? heat->magnitude : 0) +
                 (cold ? cold->magnitude : 0);
    if (dust && dust->magnitude > s->dust_bp)
        s->dust_bp = dust->magnitude;
    else
        s->dust_bp = world_round((double)s->dust_bp * DUST_DECAY, 0, 10000);
    hot = s->temp_mc > 20000 ? s->temp_mc - 20000 : 0;
    s->cooling_load_bp = 10000 + hot * 15 / 1000 + s->dust_bp / 4;
}

static void step_price(struct world_model *wm, int r, uint64_t seed, int64_t tick)
{
    const struct world_region_def *d = &world_regions[r];
    struct world_region_state *s = &wm->regions[r];
    struct rng_key k = {seed, tick, RNG_ENERGY, (uint64_t)r};
    const struct world_event *em = world_event_active(wm, WEV_GRID_EMERGENCY, r);
    double t = (double)s->temp_mc / 1000.0, tf = 1.0, noise, p;

    s->demand_bp = world_demand_bp(wm, r, local_second(wm, r));
    noise = NOISE_PHI * (double)s->noise_ppm / 1e6 +
            (double)wm->params[WP_ENERGY_NOISE_BP] / 10000.0 * rng_normal(&k, 0);
    s->noise_ppm = world_round(noise * 1e6, -3000000, 3000000);
    noise = (double)s->noise_ppm / 1e6;
    if (tick >= s->spike_until) {
        double per_year = (double)d->spikes_per_year * (s->demand_bp >= 11500 ? 3.0 : 1.0);
        s->spike_mult_bp = 10000;
        if (rng_chance_ppm(&k, 2, world_rate_ppm(wm, per_year, wm->params[WP_ENERGY_SPIKE_PCT]))) {
            /* Log-uniform on u^2 between x1.5 and half the cap's reach: mostly
             * small, rarely extreme (Texas up to ~x60, Quebec ~x5). */
            double u = rng_unit(&k, 3), top = (double)(d->cap_uusd * 10000 / d->base_uusd / 2);
            s->spike_mult_bp =
                world_round(15000.0 * exp(u * u * log(top / 15000.0)), 15000, (int64_t)top);
            s->spike_until = tick + 1 + (int64_t)rng_below(&k, 4, 6);
        }
    }
    if (t > 28.0)
        tf += 0.02 * (t - 28.0);
    if (t < 0.0)
        tf += 0.01 * -t;
    p = (double)d->base_uusd * (double)s->demand_bp / 10000.0 * tf * exp(noise) *
        (double)s->spike_mult_bp / 10000.0 * (em ? (double)em->magnitude / 10000.0 : 1.0);
    s->energy_price_uusd = world_round(p, d->base_uusd / 5, d->cap_uusd);
}

static void step_outages(struct world_model *wm, int r, uint64_t seed, int64_t tick)
{
    struct world_region_state *s = &wm->regions[r];
    int t;

    for (t = 1; t <= WORLD_NTIERS; t++) {
        struct rng_key k = {seed, tick, RNG_OUTAGE, (uint64_t)(r * 8 + t)};
        if (tick < s->outage_until[t - 1])
            continue;
        if (rng_chance_ppm(&k, 0, world_outage_ppm(wm, r, t))) {
            double len = (double)TIER_DURATION_S[t - 1] * (0.5 + rng_unit(&k, 1));
            s->outage_until[t - 1] = tick + world_ticks_for(wm, len);
        }
    }
}

void world_region_step(struct world_model *wm, int region, uint64_t seed, int64_t tick)
{
    step_climate(wm, region, seed, tick);
    step_price(wm, region, seed, tick);
    step_outages(wm, region, seed, tick);
}

int64_t world_model_energy_price_uusd(const struct world_model *wm, int region)
{
    return wm->regions[region].energy_price_uusd;
}

int64_t world_model_cooling_load_bp(const struct world_model *wm, int region)
{
    return wm->regions[region].cooling_load_bp;
}

bool world_model_outage(const struct world_model *wm, int region, int tier)
{
    return wm->tick < wm->regions[region].outage_until[tier - 1];
}
