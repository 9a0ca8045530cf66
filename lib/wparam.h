/*
 * wparam.h - the live-tunable parameters of a world's simulation.
 *
 * One C table (wparam_defs) names every parameter with its default and its
 * allowed range.  tickd starts from the defaults and overlays the rows of
 * the world_params table; the admin service validates PATCHes against the
 * same table, so the two can never disagree on a key or a range.  Values
 * are integers (basis points, ppm, seconds): no floating point is stored.
 *
 * Add new parameters at the end of the enum; the key strings are the API.
 */
#ifndef BT_WPARAM_H
#define BT_WPARAM_H

#include <stdint.h>

enum wparam_id {
    WP_GAME_SECONDS_PER_TICK, /* game clock: game seconds per tick */
    WP_PRICE_VOL_BP,          /* long-run annualised diffusion volatility */
    WP_PRICE_DRIFT_BP,        /* annualised drift of the BTC price */
    WP_GARCH_ALPHA_PPM,       /* weight of the last squared shock in the variance */
    WP_GARCH_BETA_PPM,        /* weight of the previous variance */
    WP_JUMPS_PER_YEAR,        /* Poisson rate of price jumps */
    WP_JUMP_MEAN_BP,          /* mean log-size of a jump */
    WP_JUMP_SD_BP,            /* standard deviation of a jump's log-size */
    WP_HASHRATE_GROWTH_BP,    /* annual drift of the rest-of-world hashrate */
    WP_HASHRATE_VOL_BP,       /* annualised volatility of that hashrate */
    WP_FEE_SHARE_MEAN_BP,     /* long-run fee share of miner revenue */
    WP_ENERGY_NOISE_BP,       /* per-tick sd of regional energy price noise */
    WP_ENERGY_SPIKE_PCT,      /* multiplier (%) of regional price spike odds */
    WP_DEMAND_AMP_PCT,        /* multiplier (%) of the daily demand swing */
    WP_OUTAGE_RATE_PCT,       /* multiplier (%) of grid outage odds */
    WP_EVENT_RATE_PCT,        /* multiplier (%) of world event odds */
    WP_COUNT
};

struct wparam_def {
    const char *key;
    int64_t def, min, max;
    const char *help;
};

extern const struct wparam_def wparam_defs[WP_COUNT];

/* Index of key, or -1 when unknown. */
int wparam_find(const char *key);

#endif
