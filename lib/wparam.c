/*
 * wparam.c - the world parameter table (see wparam.h).
 *
 * Defaults follow docs/ARCHITECTURE.md "World processes and the game clock"
 * and /work/shared/GAME-DATA.md: a tick is 10 game minutes (one Bitcoin
 * block interval), BTC diffusion volatility 60 % a year with ~12 jumps a
 * year, which together give ~62 % annualised volatility.
 */
#include "wparam.h"

#include <string.h>

const struct wparam_def wparam_defs[WP_COUNT] = {
    [WP_GAME_SECONDS_PER_TICK] = {"game_seconds_per_tick", 600, 1, 86400,
                                  "game seconds that pass per tick (600 = 10 game minutes)"},
    [WP_PRICE_VOL_BP] = {"price_vol_bp", 6000, 500, 30000,
                         "long-run annualised BTC diffusion volatility (bp; 6000 = 60 %)"},
    [WP_PRICE_DRIFT_BP] = {"price_drift_bp", 0, -10000, 10000, "annualised BTC price drift (bp)"},
    [WP_GARCH_ALPHA_PPM] = {"garch_alpha_ppm", 20000, 0, 300000,
                            "variance weight of the last squared shock (ppm)"},
    [WP_GARCH_BETA_PPM] = {"garch_beta_ppm", 975000, 0, 999000,
                           "variance weight of the previous variance (ppm); alpha + beta < 1e6"},
    [WP_JUMPS_PER_YEAR] = {"jumps_per_year", 12, 0, 1000, "Poisson rate of BTC price jumps"},
    [WP_JUMP_MEAN_BP] = {"jump_mean_bp", -50, -5000, 5000, "mean log-size of a jump (bp)"},
    [WP_JUMP_SD_BP] = {"jump_sd_bp", 400, 0, 5000, "standard deviation of a jump (bp)"},
    [WP_HASHRATE_GROWTH_BP] = {"hashrate_growth_bp", 3000, -10000, 20000,
                               "annual drift of the rest-of-world hashrate (bp)"},
    [WP_HASHRATE_VOL_BP] = {"hashrate_vol_bp", 2500, 0, 20000,
                            "annualised volatility of the rest-of-world hashrate (bp)"},
    [WP_FEE_SHARE_MEAN_BP] = {"fee_share_mean_bp", 300, 0, 5000,
                              "long-run share of fees in miner revenue (bp)"},
    [WP_ENERGY_NOISE_BP] = {"energy_noise_bp", 300, 0, 5000,
                            "per-tick sd of regional energy price noise (bp)"},
    [WP_ENERGY_SPIKE_PCT] = {"energy_spike_pct", 100, 0, 10000,
                             "multiplier of regional price spike odds (%)"},
    [WP_DEMAND_AMP_PCT] = {"demand_amp_pct", 100, 0, 300,
                           "multiplier of the daily demand swing (%)"},
    [WP_OUTAGE_RATE_PCT] = {"outage_rate_pct", 100, 0, 10000, "multiplier of grid outage odds (%)"},
    [WP_EVENT_RATE_PCT] = {"event_rate_pct", 100, 0, 10000, "multiplier of world event odds (%)"},
};

int wparam_find(const char *key)
{
    int i;

    for (i = 0; i < WP_COUNT; i++)
        if (strcmp(wparam_defs[i].key, key) == 0)
            return i;
    return -1;
}
