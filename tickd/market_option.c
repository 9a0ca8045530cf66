/*
 * market_option.c - European options: Black-Scholes, listing, settlement.
 *
 * Pricing uses doubles, but only the operations IEEE 754 rounds exactly
 * (+ - * / sqrt, floor, ldexp/frexp): exp, log and the normal CDF are
 * computed here with fixed-length series and continued fractions instead
 * of libm, whose transcendental functions may differ in the last bit
 * between library versions and platforms.  The C11 build (no
 * -ffast-math, FP contraction off in ISO mode) therefore gives the same
 * integers everywhere: results are rounded to micro-USD or ppm with
 * floor(x + 0.5) at the very end, and only those integers enter the state,
 * the book and the ledger.
 *
 * Listing: expiries fall on multiples of opt_expiry_interval_s of game time
 * (weekly by default); opt_expiries of them are listed at a time, each with
 * calls and puts at 2 * opt_strikes + 1 strikes spaced opt_strike_step_ppm
 * of the price at listing, rounded to opt_strike_round.  Names are
 * "BTC-D<expiry game day>-<strike USD>-C|P".
 *
 * Settlement at expiry against the fair value S, cash-settled (no delivery
 * at the strike): a put pays (K - S) * qty in USD; a call pays the value
 * (S - K) * qty converted at S into BTC, i.e. qty * (S - K) / S sats, the
 * currency of its collateral (as Deribit settles in the coin).  Holders
 * receive payoffs rounded down, writers owe them rounded up; writers get
 * the rest of their collateral back; the dust goes to the fee account.
 */
#include "market_int.h"

#include <math.h>
#include <stdio.h>

#define LN2_HI  6.93147180369123816490e-01 /* Cody-Waite split of ln 2 */
#define LN2_LO  1.90821492927058770002e-10
#define LN2     0.69314718055994530942
#define SQRT_PI 1.77245385090551602730
#define SQRT2   1.41421356237309504880
#define YEAR_S  31536000.0

double market_exp(double x)
{
    double k, r, t = 1.0, s = 1.0;

    if (x > 700.0)
        return HUGE_VAL;
    if (x < -745.0)
        return 0.0;
    k = floor(x / LN2 + 0.5);
    r = (x - k * LN2_HI) - k * LN2_LO; /* |r| <= 0.35 */
    for (int n = 1; n <= 18; n++) {
        t = t * r / n;
        s += t;
    }
    return ldexp(s, (int)k);
}

double market_log(double x)
{
    double m, s, s2, t, sum;
    int e;

    if (x <= 0.0)
        return -HUGE_VAL;
    m = frexp(x, &e); /* x = m * 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e--;
    }
    /* log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172 */
    s = (m - 1.0) / (m + 1.0);
    s2 = s * s;
    t = s;
    sum = s;
    for (int n = 1; n <= 14; n++) {
        t *= s2;
        sum += t / (2 * n + 1);
    }
    return e * LN2_HI + (e * LN2_LO + 2.0 * sum);
}

/* erfc for z >= 0: series below 2.5 (all terms positive), a continued
 * fraction evaluated bottom-up with a fixed depth above. */
static double erfc_pos(double z)
{
    double z2 = z * z, f;

    if (z < 2.5) {
        /* erf z = 2/sqrt(pi) e^-z^2 sum 2^n z^(2n+1) / (1*3*...*(2n+1)) */
        double t = z, sum = z;

        for (int n = 1; n <= 80; n++) {
            t = t * 2.0 * z2 / (2 * n + 1);
            sum += t;
        }
        return 1.0 - 2.0 / SQRT_PI * market_exp(-z2) * sum;
    }
    /* erfc z = e^-z^2 / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))) */
    f = z;
    for (int k = 120; k >= 1; k--)
        f = z + (k / 2.0) / f;
    return market_exp(-z2) / (SQRT_PI * f);
}

double market_norm_cdf(double x)
{
    double z = x / SQRT2;

    return z >= 0 ? 1.0 - 0.5 * erfc_pos(z) : 0.5 * erfc_pos(-z);
}

static double norm_pdf(double x)
{
    return market_exp(-0.5 * x * x) / (SQRT2 * SQRT_PI);
}

void market_bs_eval(double S, double K, double T, double sigma, double r, bool call,
                    struct market_bs *o)
{
    double sq, d1, d2, df, nd1, nd2;

    if (T <= 0 || sigma <= 0 || S <= 0 || K <= 0) {
        double intrinsic = call ? S - K : K - S;

        *o = (struct market_bs){intrinsic > 0 ? intrinsic : 0,
                                intrinsic > 0 ? (call ? 1.0 : -1.0) : 0.0, 0, 0, 0};
        return;
    }
    sq = sigma * sqrt(T);
    d1 = (market_log(S / K) + (r + 0.5 * sigma * sigma) * T) / sq;
    d2 = d1 - sq;
    df = market_exp(-r * T);
    nd1 = market_norm_cdf(d1);
    nd2 = market_norm_cdf(d2);
    o->gamma = norm_pdf(d1) / (S * sq);
    o->vega = S * norm_pdf(d1) * sqrt(T);
    if (call) {
        o->price = S * nd1 - K * df * nd2;
        o->delta = nd1;
        o->theta = -S * norm_pdf(d1) * sigma / (2 * sqrt(T)) - r * K * df * nd2;
    } else {
        o->price = K * df * (1 - nd2) - S * (1 - nd1);
        o->delta = nd1 - 1;
        o->theta = -S * norm_pdf(d1) * sigma / (2 * sqrt(T)) + r * K * df * (1 - nd2);
    }
}

double market_bs_iv(double price, double S, double K, double T, double r, bool call)
{
    double lo = 1e-4, hi = 5.0;
    struct market_bs b;

    market_bs_eval(S, K, T, lo, r, call, &b);
    if (price < b.price)
        return -1;
    market_bs_eval(S, K, T, hi, r, call, &b);
    if (price > b.price)
        return -1;
    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);

        market_bs_eval(S, K, T, mid, r, call, &b);
        if (b.price < price)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static int64_t round_i64(double v)
{
    return (int64_t)floor(v + 0.5);
}

void market_option_quote(const struct market_params *p, const struct market_instr *ins,
                         const struct market_env *env, int64_t last_price, struct market_quote *q)
{
    double S = env->fair / 1e6, K = ins->strike / 1e6, T = (ins->expiry_s - env->game_s) / YEAR_S;
    double vol = env->vol_ppm / 1e6, r = p->opt_rate_ppm / 1e6, iv;
    struct market_bs b;

    market_bs_eval(S, K, T, vol > 0.01 ? vol : 0.01, r, ins->call, &b);
    q->theo = round_i64(b.price * 1e6);
    q->delta_ppm = round_i64(b.delta * 1e6);
    q->gamma_ppm = round_i64(b.gamma * 1000.0 * 1e6);
    q->vega = round_i64(b.vega * 0.01 * 1e6);
    q->theta = round_i64(b.theta / 365.0 * 1e6);
    q->iv_ppm = 0;
    if (last_price > 0 && T > 0) {
        iv = market_bs_iv(last_price / 1e6, S, K, T, r, ins->call);
        q->iv_ppm = iv > 0 ? round_i64(iv * 1e6) : 0;
    }
}

/* ---- listing ---- */

static bool expiry_listed(const struct market_state *st, int64_t e)
{
    for (int i = 0; i < st->n_ins; i++)
        if (st->ins[i].kind == MARKET_OPTION && st->ins[i].expiry_s == e)
            return true;
    return false;
}

static void list_one(struct market_tick *x, int64_t expiry, int64_t strike, bool call)
{
    struct market_state *st = x->st;
    struct market_instr *i = MARKET_PUSH(x, st, ins);

    *i = (struct market_instr){.id = st->next_instr_id++,
                               .kind = MARKET_OPTION,
                               .call = call,
                               .strike = strike,
                               .expiry_s = expiry,
                               .open = true};
    /* Day and strike are bounded so the name always fits. */
    snprintf(i->name, sizeof(i->name), "BTC-D%d-%d-%c", (int)(expiry / 86400 % 100000000),
             (int)(strike / MARKET_PPM % 1000000000), call ? 'C' : 'P');
}

void market_options_list(struct market_tick *x)
{
    const struct market_params *p = &x->st->p;
    int64_t iv = p->opt_expiry_interval_s, fair = x->env->fair, step, centre, first;

    if (iv <= 0 || fair <= 0 || p->opt_expiries <= 0)
        return;
    first = ((x->env->game_s + p->opt_min_life_s) / iv + 1) * iv;
    step = market_muldiv(fair, p->opt_strike_step_ppm, MARKET_PPM);
    step = (step + p->opt_strike_round / 2) / p->opt_strike_round * p->opt_strike_round;
    if (step < p->opt_strike_round)
        step = p->opt_strike_round;
    centre = (fair + step / 2) / step * step;
    for (int e = 0; e < p->opt_expiries; e++) {
        int64_t expiry = first + e * iv;

        if (expiry_listed(x->st, expiry))
            continue;
        for (int k = -p->opt_strikes; k <= p->opt_strikes; k++) {
            if (centre + k * step <= 0)
                continue;
            list_one(x, expiry, centre + k * step, true);
            list_one(x, expiry, centre + k * step, false);
        }
    }
}

/* ---- settlement ---- */

static void settle_series(struct market_tick *x, struct market_instr *ins)
{
    struct market_state *st = x->st;
    int64_t S = x->env->fair, K = ins->strike, itm = ins->call ? S - K : K - S;
    enum market_currency cur = ins->call ? MARKET_BTC : MARKET_USD;
    i128 dust = 0;

    for (int i = 0; i < st->n_ord; i++)
        if (st->ord[i].instr == ins->id)
            market_order_end(x, &st->ord[i], MARKET_EXPIRED, "instrument_expired");
    for (int i = 0; i < st->n_pos; i++) {
        struct market_pos *p = &st->pos[i];
        int64_t q, owed = 0;
        i128 num;

        if (p->instr != ins->id || p->qty == 0)
            continue;
        q = p->qty < 0 ? -p->qty : p->qty;
        num = itm > 0 ? (i128)q * itm : 0;
        if (p->qty > 0) {
            owed = (int64_t)(ins->call ? num / S : num / MARKET_SATS);
            market_xfer(x, MARKET_ACCT_CLEARING, p->account, cur, owed, MARKET_X_SETTLEMENT,
                        ins->id);
            dust -= owed;
        } else {
            i128 d = ins->call ? S : MARKET_SATS;

            owed = (int64_t)((num + d - 1) / d);
            dust += owed;
            if (market_is_house(p->account)) {
                market_xfer(x, p->account, MARKET_ACCT_CLEARING, cur, owed, MARKET_X_SETTLEMENT,
                            ins->id);
            } else {
                BT_ASSERT(owed <= p->collateral);
                market_xfer(x, MARKET_ACCT_CLEARING, p->account, cur, p->collateral - owed,
                            MARKET_X_COLLATERAL, ins->id);
            }
        }
        p->qty = 0;
        p->cost = 0;
        p->collateral = 0;
    }
    BT_ASSERT(dust >= 0);
    market_xfer(x, MARKET_ACCT_CLEARING, MARKET_ACCT_FEES, cur, (int64_t)dust, MARKET_X_DUST,
                ins->id);
    ins->last_price = itm > 0 ? itm : 0; /* settlement value per BTC, USD */
    ins->open = false;
}

void market_options_settle(struct market_tick *x)
{
    struct market_state *st = x->st;
    int n = 0;

    for (int i = 0; i < st->n_ins; i++) {
        struct market_instr *ins = &st->ins[i];

        if (ins->kind == MARKET_OPTION && ins->open && ins->expiry_s <= x->env->game_s)
            settle_series(x, ins);
    }
    /* Settled series leave the list (their positions are gone). */
    for (int i = 0; i < st->n_ins; i++)
        if (st->ins[i].kind != MARKET_OPTION || st->ins[i].open)
            st->ins[n++] = st->ins[i];
    st->n_ins = n;
}
