/*
 * world_network.c - the Bitcoin network: hashrate, blocks, difficulty,
 * subsidy and fees.
 *
 *   rest-of-world hashrate  geometric random walk: H' = H exp((g - s^2/2) dt + s sqrt(dt) z)
 *   network hashrate        rest of world + players' total (set by mining)
 *   blocks this tick        N ~ Poisson(H * 1e12 * T / (D * 2^32)), T = game seconds per tick
 *   retarget                every 2016 blocks: D' = D * 1209600 / actual, the factor
 *                           clamped to [1/4, 4] as in Bitcoin (actual = game seconds the
 *                           period took; blocks inside a tick are dated at its end)
 *   subsidy                 5,000,000,000 sat >> (height / 210000)
 *   fee share               exp AR(1) around fee_share_mean_bp, raised by fee_spike events
 */
#include "world_internal.h"
#include "rng.h"

#include <math.h>

#define HASHRATE_MIN_THS 1000000LL       /* 1 EH/s */
#define HASHRATE_MAX_THS 1000000000000LL /* 1 ZH/s x 1000 */
#define FEE_NOISE_PHI    0.98
#define FEE_NOISE_SD     0.05

int64_t world_subsidy_at(int64_t height)
{
    int64_t era = height / WORLD_HALVING_BLOCKS;

    return era >= 63 ? 0 : 5000000000LL >> era;
}

int64_t world_retarget(int64_t difficulty, int64_t actual_s, int64_t expected_s)
{
    __int128 d;

    if (actual_s < expected_s / 4)
        actual_s = expected_s / 4;
    if (actual_s > expected_s * 4)
        actual_s = expected_s * 4;
    if (actual_s < 1)
        actual_s = 1;
    d = (__int128)difficulty * expected_s / actual_s;
    if (d < 1)
        d = 1;
    if (d > INT64_MAX)
        d = INT64_MAX;
    return (int64_t)d;
}

static void step_hashrate(struct world_model *wm, uint64_t seed, int64_t tick)
{
    struct rng_key k = {seed, tick, RNG_HASHRATE, 0};
    double dt = world_dt_years(wm);
    double g = (double)wm->params[WP_HASHRATE_GROWTH_BP] / 10000.0;
    double s = (double)wm->params[WP_HASHRATE_VOL_BP] / 10000.0;
    double r = (g - s * s / 2) * dt + s * sqrt(dt) * rng_normal(&k, 0);

    wm->row_hashrate_ths =
        world_round((double)wm->row_hashrate_ths * exp(r), HASHRATE_MIN_THS, HASHRATE_MAX_THS);
}

static void step_blocks(struct world_model *wm, uint64_t seed, int64_t tick)
{
    struct rng_key k = {seed, tick, RNG_BLOCKS, 0};
    double hashes = (double)world_model_network_hashrate_ths(wm) * 1e12 *
                    (double)wm->params[WP_GAME_SECONDS_PER_TICK];
    double lambda = hashes / ((double)wm->difficulty * 4294967296.0);
    int64_t n = (int64_t)rng_poisson(&k, 0, lambda > 1e6 ? 1e6 : lambda);

    wm->blocks_last_tick = n;
    wm->height += n;
    while (wm->height >= wm->epoch_start_height + WORLD_RETARGET_BLOCKS) {
        wm->difficulty = world_retarget(wm->difficulty, wm->game_time_s - wm->epoch_start_time_s,
                                        (int64_t)WORLD_RETARGET_BLOCKS * WORLD_BLOCK_TARGET_S);
        wm->epoch_start_height += WORLD_RETARGET_BLOCKS;
        wm->epoch_start_time_s = wm->game_time_s;
    }
}

static void step_fees(struct world_model *wm, uint64_t seed, int64_t tick)
{
    struct rng_key k = {seed, tick, RNG_FEES, 0};
    const struct world_event *spike = world_event_active(wm, WEV_FEE_SPIKE, -1);
    double n = (double)wm->fee_noise_ppm / 1e6 * FEE_NOISE_PHI + FEE_NOISE_SD * rng_normal(&k, 0);
    int64_t share;

    wm->fee_noise_ppm = world_round(n * 1e6, -5000000, 5000000);
    share = world_round((double)wm->params[WP_FEE_SHARE_MEAN_BP] * exp(n), 0, 9000);
    if (spike && spike->magnitude > share)
        share = spike->magnitude;
    wm->fee_share_bp = share;
}

void world_network_step(struct world_model *wm, uint64_t seed, int64_t tick)
{
    step_hashrate(wm, seed, tick);
    step_blocks(wm, seed, tick);
    step_fees(wm, seed, tick);
}

int64_t world_model_network_hashrate_ths(const struct world_model *wm)
{
    return wm->row_hashrate_ths + wm->player_hashrate_ths;
}

int64_t world_model_difficulty(const struct world_model *wm)
{
    return wm->difficulty;
}

int64_t world_model_subsidy_sats(const struct world_model *wm)
{
    return world_subsidy_at(wm->height);
}

int64_t world_model_block_fees_sats(const struct world_model *wm)
{
    int64_t sub = world_model_subsidy_sats(wm);

    /* fee_share is the fees' part of (subsidy + fees). */
    return (int64_t)((__int128)sub * wm->fee_share_bp / (10000 - wm->fee_share_bp));
}

int64_t world_model_blocks_last_tick(const struct world_model *wm)
{
    return wm->blocks_last_tick;
}

void world_model_set_player_hashrate(struct world_model *wm, int64_t ths)
{
    wm->player_hashrate_ths = ths < 0 ? 0 : ths;
}
