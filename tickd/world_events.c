/*
 * world_events.c - world events: probability tables conditioned on the
 * world's state, their severity, duration and effect size.
 *
 * Each tick: events whose resolution tick arrived end; admin-injected
 * events start; then for every (type, region) pair without an active event
 * of that type, one draw decides whether a natural event starts, with a
 * per-tick probability from a yearly rate that depends on the state:
 *
 *   heat_wave         seasonal temp Ts >= 22 C: 6 * (Ts - 22) / 4 a year
 *   cold_snap         Ts <= 12 C: 2 * (12 - Ts) / 5 a year (cap 12)
 *   dust_storm        arid regions with Ts >= 10 C: 8 a year (x1.5 in a heat wave)
 *   grid_emergency    (10000 - reliability_bp) / 25 a year, x4 during a heat wave or
 *                     cold snap, x2 while demand >= 1.15
 *   regulatory_shock  global, 3 a year
 *   fee_spike         global, 6 a year, x3 after a BTC move of more than 2 % in a tick
 *
 * all times event_rate_pct / 100.  Effects (magnitude by severity s = 1..5):
 *   heat_wave +3 C + 1.5 C s; cold_snap -(4 C + 3 C s); dust_storm dust 1000 + 1500 s bp;
 *   grid_emergency energy price x(1 + 0.5 s) and outage odds x5;
 *   regulatory_shock BTC -(3 % + 3 % s) (75 %) or +(2 % + 2 % s), once at its start;
 *   fee_spike fee share at least 1000 + 800 s bp.
 * Durations: a base span per type x (2 + s) / 4 x U[0.75, 1.25].
 */
#include "world_internal.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>

#define INJECTED_ENTITY   0x10000u
#define INJECTED_SEVERITY 3

static const double BASE_SPAN_S[WEV_COUNT] = {
    [WEV_HEAT_WAVE] = 2 * 86400.0,    [WEV_COLD_SNAP] = 2 * 86400.0,
    [WEV_DUST_STORM] = 8 * 3600.0,    [WEV_GRID_EMERGENCY] = 6 * 3600.0,
    [WEV_REGULATORY_SHOCK] = 86400.0, [WEV_FEE_SPIKE] = 12 * 3600.0,
};

const struct world_event *world_event_active(const struct world_model *wm, int type, int region)
{
    int64_t i;

    for (i = 0; i < wm->nevents; i++)
        if (wm->events[i].type == type && wm->events[i].region == region &&
            wm->events[i].start_tick <= wm->tick && wm->tick < wm->events[i].resolution_tick)
            return &wm->events[i];
    return NULL;
}

static double yearly_rate(const struct world_model *wm, int type, int region)
{
    double ts, r;

    switch (type) {
    case WEV_HEAT_WAVE:
        ts = world_seasonal_temp_c(wm, region);
        return ts >= 22.0 ? 6.0 * (ts - 22.0) / 4.0 : 0.0;
    case WEV_COLD_SNAP:
        ts = world_seasonal_temp_c(wm, region);
        r = ts <= 12.0 ? 2.0 * (12.0 - ts) / 5.0 : 0.0;
        return r > 12.0 ? 12.0 : r;
    case WEV_DUST_STORM:
        if (!world_regions[region].arid || world_seasonal_temp_c(wm, region) < 10.0)
            return 0.0;
        return world_event_active(wm, WEV_HEAT_WAVE, region) ? 12.0 : 8.0;
    case WEV_GRID_EMERGENCY:
        r = (double)(10000 - world_regions[region].reliability_bp) / 25.0;
        if (world_event_active(wm, WEV_HEAT_WAVE, region) ||
            world_event_active(wm, WEV_COLD_SNAP, region))
            r *= 4.0;
        if (wm->regions[region].demand_bp >= 11500)
            r *= 2.0;
        return r;
    case WEV_REGULATORY_SHOCK:
        return 3.0;
    case WEV_FEE_SPIKE:
        r = wm->price_prev_uusd > 0
                ? fabs((double)wm->price_uusd / (double)wm->price_prev_uusd - 1.0)
                : 0.0;
        return r > 0.02 ? 18.0 : 6.0;
    default:
        return 0.0;
    }
}

int64_t world_event_chance_ppm(const struct world_model *wm, int type, int region)
{
    if (type < 0 || type >= WEV_COUNT || wevent_regional(type) != (region >= 0))
        return 0;
    return world_rate_ppm(wm, yearly_rate(wm, type, region), wm->params[WP_EVENT_RATE_PCT]);
}

static int64_t magnitude(int type, int64_t sev, const struct rng_key *k)
{
    switch (type) {
    case WEV_HEAT_WAVE:
        return 3000 + 1500 * sev;
    case WEV_COLD_SNAP:
        return -(4000 + 3000 * sev);
    case WEV_DUST_STORM:
        return 1000 + 1500 * sev;
    case WEV_GRID_EMERGENCY:
        return 10000 + 5000 * sev;
    case WEV_REGULATORY_SHOCK:
        return rng_below(k, 3, 4) == 0 ? 200 + 200 * sev : -(300 + 300 * sev);
    case WEV_FEE_SPIKE:
        return 1000 + 800 * sev;
    default:
        return 0;
    }
}

/* Starts an event with draws 1.. of key k (severity fixed when sev > 0). */
static void start_event(struct world_model *wm, int type, int region, int64_t sev,
                        const struct rng_key *k, int64_t tick)
{
    struct world_event *e;
    double span;

    if (wm->nevents >= WORLD_MAX_EVENTS)
        return;
    if (sev <= 0)
        sev = 1 + (int64_t)rng_below(k, 1, 5);
    span = BASE_SPAN_S[type] * (double)(2 + sev) / 4.0 * (0.75 + 0.5 * rng_unit(k, 2));
    e = &wm->events[wm->nevents++];
    e->id = wm->next_event_id++;
    e->type = type;
    e->region = region;
    e->severity = sev;
    e->magnitude = magnitude(type, sev, k);
    e->start_tick = tick;
    e->resolution_tick = tick + world_ticks_for(wm, span);
}

static void expire(struct world_model *wm, int64_t tick)
{
    int64_t i, n = 0;

    for (i = 0; i < wm->nevents; i++)
        if (wm->events[i].resolution_tick > tick)
            wm->events[n++] = wm->events[i];
    wm->nevents = n;
}

void world_events_step(struct world_model *wm, uint64_t seed, int64_t tick)
{
    int i, type, r;

    expire(wm, tick);
    for (i = 0; i < wm->nshocks; i++) {
        const struct world_shock *s = &wm->shocks[i];
        struct rng_key k = {seed, tick, RNG_EVENTS, INJECTED_ENTITY + (uint64_t)i};
        if (s->kind == WORLD_SHOCK_EVENT && !world_event_active(wm, s->type, s->region))
            start_event(wm, s->type, s->region, INJECTED_SEVERITY, &k, tick);
    }
    for (type = 0; type < WEV_COUNT; type++) {
        int first = wevent_regional(type) ? 0 : -1,
            last = wevent_regional(type) ? WORLD_NREGIONS - 1 : -1;
        for (r = first; r <= last; r++) {
            struct rng_key k = {seed, tick, RNG_EVENTS, (uint64_t)(type * 16 + r + 1)};
            if (world_event_active(wm, type, r))
                continue;
            if (rng_chance_ppm(&k, 0, world_event_chance_ppm(wm, type, r)))
                start_event(wm, type, r, 0, &k, tick);
        }
    }
}
