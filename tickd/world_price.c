/*
 * world_price.c - the BTC price: a Merton jump-diffusion whose diffusion
 * variance follows a GARCH(1,1)-like recursion (volatility clustering).
 *
 * Per tick, with dt the tick's length in years and h the annualised
 * variance carried in the state:
 *
 *   r   = (mu - h/2 - lambda*k) dt + sqrt(h dt) z + J + S
 *   P'  = round(P * exp(r))
 *   h'  = (1 - a - b) hbar + a h z^2 + b h          (clamped to [hbar/16, 16 hbar])
 *
 * z ~ N(0,1); J is the sum of N ~ Poisson(lambda dt) jumps of log-size
 * N(m, s^2) (so J ~ N(N m, N s^2)); k = exp(m + s^2/2) - 1 compensates the
 * jumps' mean; S is the log of admin shocks and regulatory shocks that
 * start this tick.  Since E[a h z^2] = a h, the long-run mean of h is hbar
 * (= price_vol_bp^2), so total annualised variance is hbar + lambda (m^2 +
 * s^2): 60 % diffusion and 12 jumps of sd 4 % give ~62 %.
 *
 * The state holds only integers: the price in micro-USD and h x 1e9.
 */
#include "world_internal.h"
#include "rng.h"

#include <math.h>

#define PRICE_MIN_UUSD 1000000LL          /* 1 USD */
#define PRICE_MAX_UUSD 1000000000000000LL /* 1e9 USD */

/* Log of the combined relative moves of this tick's admin price shocks and
 * newly started regulatory shocks. */
static double shock_log(const struct world_model *wm, int64_t tick)
{
    double s = 0;
    int64_t i;

    for (i = 0; i < wm->nshocks; i++)
        if (wm->shocks[i].kind == WORLD_SHOCK_PRICE)
            s += log1p((double)wm->shocks[i].pct_bp / 10000.0);
    for (i = 0; i < wm->nevents; i++)
        if (wm->events[i].type == WEV_REGULATORY_SHOCK && wm->events[i].start_tick == tick)
            s += log1p((double)wm->events[i].magnitude / 10000.0);
    return s;
}

void world_price_step(struct world_model *wm, uint64_t seed, int64_t tick)
{
    struct rng_key kp = {seed, tick, RNG_PRICE, 0}, kj = {seed, tick, RNG_JUMP, 0};
    const int64_t *p = wm->params;
    double dt = world_dt_years(wm);
    double hbar = pow((double)p[WP_PRICE_VOL_BP] / 10000.0, 2);
    double h = (double)wm->price_var_e9 / 1e9;
    double a = (double)p[WP_GARCH_ALPHA_PPM] / 1e6, b = (double)p[WP_GARCH_BETA_PPM] / 1e6;
    double mu = (double)p[WP_PRICE_DRIFT_BP] / 10000.0;
    double lambda = (double)p[WP_JUMPS_PER_YEAR];
    double m = (double)p[WP_JUMP_MEAN_BP] / 10000.0, s = (double)p[WP_JUMP_SD_BP] / 10000.0;
    double k = exp(m + s * s / 2) - 1, z, r, jump = 0, hn;
    uint64_t n;

    if (a + b > 0.999) /* keep the recursion stationary whatever the admin set */
        b = a < 0.999 ? 0.999 - a : 0;
    z = rng_normal(&kp, 0);
    n = rng_poisson(&kj, 0, lambda * dt);
    if (n > 0) {
        kj.entity = 1;
        jump = (double)n * m + sqrt((double)n) * s * rng_normal(&kj, 0);
    }
    r = (mu - h / 2 - lambda * k) * dt + sqrt(h * dt) * z + jump + shock_log(wm, tick);
    wm->price_prev_uusd = wm->price_uusd;
    wm->price_uusd = world_round((double)wm->price_uusd * exp(r), PRICE_MIN_UUSD, PRICE_MAX_UUSD);
    hn = (1 - a - b) * hbar + a * h * z * z + b * h;
    wm->price_var_e9 = world_round(hn * 1e9, world_round(hbar / 16 * 1e9, 1, INT64_MAX),
                                   world_round(hbar * 16 * 1e9, 1, INT64_MAX));
}
