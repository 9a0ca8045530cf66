/*
 * market_book.c - the simulated market makers and the aggregated book.
 *
 * The makers quote a ladder of levels around a mid price each tick: the
 * fair value for spot, the fair value skewed against their own inventory
 * for the perpetual (so a crowd of longs lifts the perp above the index and
 * funding makes longs pay), and the Black-Scholes value for options.  The
 * half spread grows in proportion to volatility and event stress; the depth
 * per level shrinks in the same proportion and gets +-25 % deterministic
 * noise from the counter-based RNG (stream RNG_MARKET), so a tick's book is
 * a pure function of (seed, tick, instrument, environment).  Quotes are
 * integers on the instrument's tick and lot grid; bids round down, asks up.
 */
#include "market_int.h"

#include <stdlib.h>

#include "rng.h"

/* Volatility and stress relative to calm reference conditions, in ppm:
 * 1e6 = reference; the volatility factor is floored at a tenth. */
static int64_t stress_factor_ppm(const struct market_params *p, const struct market_env *env)
{
    int64_t vol = env->vol_ppm > p->mm_ref_vol_ppm / 10 ? env->vol_ppm : p->mm_ref_vol_ppm / 10;
    int64_t stress = env->stress_ppm > 0 ? env->stress_ppm : MARKET_PPM;

    return market_muldiv(market_muldiv(vol, MARKET_PPM, p->mm_ref_vol_ppm), stress, MARKET_PPM);
}

void market_mm_quotes(const struct market_params *p, const struct market_instr *ins,
                      const struct market_env *env, int64_t mid, struct market_level *bids,
                      int *nbids, struct market_level *asks, int *nasks, int max)
{
    const struct market_spec *s = market_spec_of(p, ins->kind);
    bool opt = ins->kind == MARKET_OPTION;
    int levels = opt ? p->opt_mm_levels : p->mm_levels;
    int64_t f = stress_factor_ppm(p, env);
    int64_t half = market_muldiv(
        market_muldiv(mid, opt ? p->opt_half_spread_ppm : p->mm_half_spread_ppm, MARKET_PPM), f,
        MARKET_PPM);
    int64_t depth = market_muldiv(opt ? p->opt_mm_depth : p->mm_depth, MARKET_PPM, f);

    *nbids = *nasks = 0;
    if (half < s->tick)
        half = s->tick;
    if (levels > max)
        levels = max;
    for (int i = 0; i < levels; i++) {
        for (int side = 0; side < 2; side++) {
            struct rng_key k = {env->seed, env->tick, RNG_MARKET,
                                (uint64_t)ins->id * 1024 + (uint64_t)i * 2 + (uint64_t)side};
            int64_t noise = 750000 + (int64_t)rng_below(&k, 0, 500001);
            /* Deeper levels carry more: level i holds (2 + i) / 2 of the base. */
            int64_t q = market_muldiv(market_muldiv(depth, 2 + i, 2), noise, MARKET_PPM);
            int64_t off = half * (i + 1), price;

            q = q / s->lot * s->lot;
            if (q < s->lot)
                q = s->lot;
            if (side == 0) {
                price = (mid - off) / s->tick * s->tick;
                if (price >= s->tick)
                    bids[(*nbids)++] = (struct market_level){price, q};
            } else {
                price = (mid + off + s->tick - 1) / s->tick * s->tick;
                asks[(*nasks)++] = (struct market_level){price, q};
            }
        }
    }
}

int64_t market_mm_mid(const struct market_state *st, const struct market_env *env,
                      const struct market_instr *ins)
{
    const struct market_pos *mm;
    int64_t skew;

    if (ins->kind == MARKET_OPTION)
        return market_ref_price(st, env, ins);
    if (ins->kind == MARKET_SPOT || !(mm = market_pos_get(st, MARKET_ACCT_MM, ins->id)))
        return env->fair;
    /* Short makers (players long) quote higher, long makers lower. */
    skew = (int64_t)(-(i128)mm->qty * st->p.mm_skew_ppm_per_btc / MARKET_SATS);
    if (skew > st->p.mm_skew_max_ppm)
        skew = st->p.mm_skew_max_ppm;
    if (skew < -st->p.mm_skew_max_ppm)
        skew = -st->p.mm_skew_max_ppm;
    return env->fair + market_floor_div((i128)env->fair * skew, MARKET_PPM);
}

static int cmp_desc(const void *a, const void *b)
{
    const struct market_level *x = a, *y = b;

    return x->price > y->price ? -1 : x->price < y->price;
}

static int cmp_asc(const void *a, const void *b)
{
    return cmp_desc(b, a);
}

/* Sorts, merges equal prices and keeps the best max levels. */
static int merge(struct market_level *v, int n, bool bids, int max)
{
    int m = 0;

    qsort(v, (size_t)n, sizeof(*v), bids ? cmp_desc : cmp_asc);
    for (int i = 0; i < n; i++) {
        if (m > 0 && v[m - 1].price == v[i].price)
            v[m - 1].qty += v[i].qty;
        else if (m < max)
            v[m++] = v[i];
        else
            break;
    }
    return m;
}

int market_depth(const struct market_state *st, const struct market_env *env,
                 const struct market_instr *ins, struct market_level *bids, int *nbids,
                 struct market_level *asks, int *nasks, int max)
{
    int cap = st->p.mm_levels + st->p.opt_mm_levels + 1, nb = 0, na = 0;
    struct market_level *b, *a;

    for (int i = 0; i < st->n_ord; i++)
        cap += st->ord[i].instr == ins->id;
    b = malloc(sizeof(*b) * (size_t)cap);
    a = malloc(sizeof(*a) * (size_t)cap);
    if (!b || !a) {
        free(b);
        free(a);
        *nbids = *nasks = 0;
        return BT_ERR;
    }
    market_mm_quotes(&st->p, ins, env, market_mm_mid(st, env, ins), b, &nb, a, &na, cap);
    for (int i = 0; i < st->n_ord; i++) {
        const struct market_order *o = &st->ord[i];

        if (o->instr != ins->id || o->status != MARKET_LIVE || o->type != MARKET_ORDER_LIMIT)
            continue;
        if (o->side == MARKET_BUY)
            b[nb++] = (struct market_level){o->limit, o->qty - o->filled};
        else
            a[na++] = (struct market_level){o->limit, o->qty - o->filled};
    }
    *nbids = merge(b, nb, true, max);
    *nasks = merge(a, na, false, max);
    for (int i = 0; i < *nbids; i++)
        bids[i] = b[i];
    for (int i = 0; i < *nasks; i++)
        asks[i] = a[i];
    free(b);
    free(a);
    return BT_OK;
}

void market_best(struct market_tick *x, int k, int64_t *bid, int64_t *ask)
{
    const struct market_state *st = x->st;
    const struct market_instr *ins = &st->ins[k];
    struct market_level b[1], a[1];
    int nb, na;

    market_mm_quotes(&st->p, ins, x->env, market_mm_mid(st, x->env, ins), b, &nb, a, &na, 1);
    *bid = nb ? b[0].price : 0;
    *ask = na ? a[0].price : 0;
    if (!x->start)
        return;
    for (int j = x->start[k]; j < x->start[k + 1]; j++) {
        const struct market_order *o = &st->ord[x->idx[j]];

        if (o->status != MARKET_LIVE || o->type != MARKET_ORDER_LIMIT)
            continue;
        if (o->side == MARKET_BUY && o->limit > *bid)
            *bid = o->limit;
        if (o->side == MARKET_SELL && (*ask == 0 || o->limit < *ask))
            *ask = o->limit;
    }
}
