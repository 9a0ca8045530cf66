/*
 * market_auction.c - the frequent batch auction run once per instrument per
 * tick, and the settlement of its fills.
 *
 * Everything live on an instrument at auction time - the makers' ladder of
 * this tick, resting limit orders and the orders claimed in this tick - is
 * one sealed-bid call auction.  Market orders take part as limit orders at
 * the band edge of their side.  Rules:
 *
 *   clearing price  the price p (a limit, or the reference price) that maximises the executed
 * volume min(D(p), S(p)) (D = buys with limit >= p, S = sells with limit <= p); ties: smallest
 * imbalance |D - S|, then closest to the reference (fair or theoretical), then the lower price.
 *   allocation      everyone trades at p.  Orders strictly better than p
 *                   fill completely; at the marginal limit the short side
 *                   is shared pro rata to the remaining quantity, in whole
 *                   lots, largest remainders first, equal remainders
 *                   ordered by a per-tick hash of the order id - neither
 *                   arrival time nor id order earns priority.
 *   FOK             an FOK order that would not fill completely is taken
 *                   out and the auction recomputed, until none is left.
 *   IOC / market    whatever did not fill is cancelled after the auction.
 *   self-trade      impossible: validation forbids an account's buy and
 *                   sell on one instrument from crossing, and at a single
 *                   price two non-crossing orders cannot both fill.
 *
 * Settlement goes through the CLEARING account as central counterparty:
 * buyers pay the notional rounded up, sellers receive it rounded down, and
 * the dust (>= 0) goes to the fee account, so every leg balances exactly.
 */
#include "market_int.h"

#include <stdlib.h>

#include "rng.h"

struct entry {
    int64_t limit, qty, alloc; /* sats */
    uint64_t tie;
    int64_t order_id; /* 0 = makers */
    int32_t ord;      /* index in st->ord, -1 = makers */
    int32_t seq;      /* settlement order: orders by id, then the makers */
    bool fok, out;    /* FOK; taken out of the auction */
};

struct book {
    struct entry *b, *s; /* buys (best = highest first), sells (lowest first) */
    int nb, ns;
    int64_t lot, ref;
};

static int cmp_buy(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->limit != y->limit)
        return x->limit > y->limit ? -1 : 1;
    return x->tie < y->tie ? -1 : x->tie > y->tie;
}

static int cmp_sell(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->limit != y->limit)
        return x->limit < y->limit ? -1 : 1;
    return x->tie < y->tie ? -1 : x->tie > y->tie;
}

static uint64_t tie_of(const struct market_env *env, uint64_t entity)
{
    struct rng_key k = {env->seed, env->tick, RNG_MARKET, entity};

    return rng_u64(&k, 1);
}

/* All distinct limit prices and the reference, highest first: a merge of
 * the buys (highest first) and the sells read backwards. */
static int candidates(const struct book *bk, int64_t *cand)
{
    int nc = 0, i = 0, j = bk->ns - 1;
    bool ref_done = bk->ref <= 0;

    while (i < bk->nb || j >= 0 || !ref_done) {
        int64_t p = INT64_MIN;

        if (i < bk->nb)
            p = bk->b[i].limit;
        if (j >= 0 && bk->s[j].limit > p)
            p = bk->s[j].limit;
        if (!ref_done && bk->ref >= p) {
            p = bk->ref;
            ref_done = true;
        }
        if (i < bk->nb && bk->b[i].limit == p)
            i++;
        else if (j >= 0 && bk->s[j].limit == p)
            j--;
        if (nc == 0 || cand[nc - 1] != p)
            cand[nc++] = p;
    }
    return nc;
}

/* Finds the clearing price and volume; *vol = 0 when nothing crosses. */
static void clear_price(const struct book *bk, int64_t *price, int64_t *vol, int64_t *cand)
{
    int nc = candidates(bk, cand), ib = 0, js = bk->ns - 1;
    int64_t d = 0, s = 0, best_imb = 0, best_dist = 0;

    *vol = 0;
    *price = 0;
    for (int i = 0; i < bk->ns; i++)
        s += bk->s[i].out ? 0 : bk->s[i].qty;
    for (int c = 0; c < nc; c++) {
        int64_t p = cand[c], v, imb, dist;

        for (; ib < bk->nb && bk->b[ib].limit >= p; ib++)
            d += bk->b[ib].out ? 0 : bk->b[ib].qty;
        for (; js >= 0 && bk->s[js].limit > p; js--)
            s -= bk->s[js].out ? 0 : bk->s[js].qty;
        v = d < s ? d : s;
        imb = d > s ? d - s : s - d;
        dist = p > bk->ref ? p - bk->ref : bk->ref - p;
        /* Candidates come highest first, so "<=" on distance prefers the lower price. */
        if (v > *vol ||
            (v == *vol && v > 0 && (imb < best_imb || (imb == best_imb && dist <= best_dist)))) {
            *vol = v;
            *price = p;
            best_imb = imb;
            best_dist = dist;
        }
    }
}

struct rem {
    i128 rem;
    uint64_t tie;
    int i;
};

static int cmp_remainder(const void *a, const void *b)
{
    const struct rem *x = a, *y = b;

    if (x->rem != y->rem)
        return x->rem > y->rem ? -1 : 1;
    return x->tie < y->tie ? -1 : x->tie > y->tie;
}

/* Shares r sats pro rata over level v[0..n) (quantities in whole lots). */
static int prorata(struct entry *v, int n, int64_t r, int64_t lot, struct rem *tmp)
{
    int64_t q = 0, given = 0, left;
    int m = 0;

    for (int i = 0; i < n; i++)
        if (!v[i].out)
            q += v[i].qty / lot;
    r /= lot;
    for (int i = 0; i < n; i++) {
        i128 num;

        if (v[i].out)
            continue;
        num = (i128)(v[i].qty / lot) * r;
        v[i].alloc = (int64_t)(num / q) * lot;
        given += v[i].alloc / lot;
        tmp[m++] = (struct rem){num % q, v[i].tie, i};
    }
    qsort(tmp, (size_t)m, sizeof(*tmp), cmp_remainder);
    left = r - given;
    for (int k = 0; k < m && left > 0; k++, left--)
        v[tmp[k].i].alloc += lot;
    return BT_OK;
}

/* Allocates vol at price over one side (sorted best first). */
static void allocate(struct entry *v, int n, bool buys, int64_t price, int64_t vol, int64_t lot,
                     struct rem *tmp)
{
    int64_t r = vol;
    int i = 0;

    for (int k = 0; k < n; k++)
        v[k].alloc = 0;
    while (i < n && r > 0) {
        int j = i;
        int64_t q = 0;

        if ((buys && v[i].limit < price) || (!buys && v[i].limit > price))
            break;
        while (j < n && v[j].limit == v[i].limit) {
            q += v[j].out ? 0 : v[j].qty;
            j++;
        }
        if (q <= r) {
            for (int k = i; k < j; k++)
                v[k].alloc = v[k].out ? 0 : v[k].qty;
            r -= q;
        } else {
            prorata(v + i, j - i, r, lot, tmp);
            r = 0;
        }
        i = j;
    }
}

/* FOK orders that would fill partly are taken out; true if any was. */
static bool drop_fok(struct book *bk)
{
    bool any = false;

    for (int i = 0; i < bk->nb; i++)
        if (bk->b[i].fok && !bk->b[i].out && bk->b[i].alloc < bk->b[i].qty)
            any = bk->b[i].out = true;
    for (int i = 0; i < bk->ns; i++)
        if (bk->s[i].fok && !bk->s[i].out && bk->s[i].alloc < bk->s[i].qty)
            any = bk->s[i].out = true;
    return any;
}

struct fill_ref {
    struct entry *e;
    bool buy;
};

static void settle(struct market_tick *x, struct market_instr *ins, const struct fill_ref *f,
                   int64_t price, i128 *dust)
{
    const struct market_spec *s = market_spec_of(&x->st->p, ins->kind);
    struct market_order *o = f->e->ord >= 0 ? &x->st->ord[f->e->ord] : NULL;
    int64_t acct = o ? o->account : MARKET_ACCT_MM, q = f->e->alloc, n, fee = 0, pnl = 0;
    bool house = market_is_house(acct);
    enum market_side side = f->buy ? MARKET_BUY : MARKET_SELL;
    struct market_fill *fl;

    switch (ins->kind) {
    case MARKET_SPOT:
    case MARKET_OPTION:
        n = f->buy ? market_notional_up(q, price) : market_notional(q, price);
        fee = house ? 0 : market_fee(n, s->fee_ppm);
        if (ins->kind == MARKET_SPOT && f->buy) {
            market_xfer(x, acct, MARKET_ACCT_CLEARING, MARKET_USD, n, MARKET_X_TRADE, ins->id);
            market_xfer(x, MARKET_ACCT_CLEARING, acct, MARKET_BTC, q, MARKET_X_TRADE, ins->id);
        } else if (ins->kind == MARKET_SPOT) {
            market_xfer(x, acct, MARKET_ACCT_CLEARING, MARKET_BTC, q, MARKET_X_TRADE, ins->id);
            market_xfer(x, MARKET_ACCT_CLEARING, acct, MARKET_USD, n, MARKET_X_TRADE, ins->id);
        } else if (f->buy) {
            market_xfer(x, acct, MARKET_ACCT_CLEARING, MARKET_USD, n, MARKET_X_PREMIUM, ins->id);
        } else {
            market_xfer(x, MARKET_ACCT_CLEARING, acct, MARKET_USD, n, MARKET_X_PREMIUM, ins->id);
        }
        *dust += f->buy ? n : -n;
        market_xfer(x, acct, MARKET_ACCT_FEES, MARKET_USD, fee, MARKET_X_FEE, ins->id);
        if (ins->kind == MARKET_OPTION)
            market_pos_fill(x, acct, ins, side, q, price, 0, ins->id);
        break;
    case MARKET_PERP:
        /* Perp fees are charged on the mark notional, like the margin. */
        fee = house ? 0 : market_fee(market_notional_up(q, x->env->fair), s->fee_ppm);
        pnl = market_pos_fill(x, acct, ins, side, q, price, o ? o->leverage : 1, ins->id);
        market_xfer(x, acct, MARKET_ACCT_FEES, MARKET_USD, fee, MARKET_X_FEE, ins->id);
        break;
    }
    fl = MARKET_PUSH(x, x->out, fills);
    *fl = (struct market_fill){o ? o->id : 0, acct, ins->id, (uint8_t)side, q, price, fee, pnl};
    if (o) {
        o->filled += q;
        if (o->filled == o->qty)
            market_order_end(x, o, MARKET_FILLED, "filled");
    }
}

static int gather(struct market_tick *x, int k, struct book *bk)
{
    struct market_state *st = x->st;
    const struct market_instr *ins = &st->ins[k];
    int no = x->start[k + 1] - x->start[k], n = 2 * (st->p.mm_levels + st->p.opt_mm_levels) + no;
    struct market_level *lb, *la;
    int nlb, nla;

    bk->b = malloc(sizeof(*bk->b) * (size_t)n);
    bk->s = malloc(sizeof(*bk->s) * (size_t)n);
    lb = malloc(sizeof(*lb) * (size_t)n);
    la = malloc(sizeof(*la) * (size_t)n);
    if (!bk->b || !bk->s || !lb || !la) {
        free(lb);
        free(la);
        return BT_ERR;
    }
    market_mm_quotes(&st->p, ins, x->env, market_mm_mid(st, x->env, ins), lb, &nlb, la, &nla, n);
    for (int i = 0; i < nlb; i++)
        bk->b[bk->nb++] =
            (struct entry){lb[i].price, lb[i].qty,
                           0,           tie_of(x->env, (uint64_t)ins->id * 1024 + (uint64_t)i * 2),
                           0,           -1,
                           no + i,      false,
                           false};
    for (int i = 0; i < nla; i++)
        bk->s[bk->ns++] =
            (struct entry){la[i].price,
                           la[i].qty,
                           0,
                           tie_of(x->env, (uint64_t)ins->id * 1024 + (uint64_t)i * 2 + 1),
                           0,
                           -1,
                           no + nlb + i,
                           false,
                           false};
    free(lb);
    free(la);
    for (int j = x->start[k]; j < x->start[k + 1]; j++) {
        int i = x->idx[j];
        struct market_order *o = &st->ord[i];
        struct entry e;

        if (o->status != MARKET_LIVE)
            continue;
        /* The bucket is in id order, so seq follows the order ids. */
        e = (struct entry){
            o->limit,        o->qty - o->filled,   0,    tie_of(x->env, (uint64_t)o->id), o->id, i,
            j - x->start[k], o->tif == MARKET_FOK, false};
        if (o->side == MARKET_BUY)
            bk->b[bk->nb++] = e;
        else
            bk->s[bk->ns++] = e;
    }
    qsort(bk->b, (size_t)bk->nb, sizeof(*bk->b), cmp_buy);
    qsort(bk->s, (size_t)bk->ns, sizeof(*bk->s), cmp_sell);
    return BT_OK;
}

void market_auction(struct market_tick *x, int k)
{
    struct market_instr *ins = &x->st->ins[k];
    const struct market_spec *spec = market_spec_of(&x->st->p, ins->kind);
    struct book bk = {.lot = spec->lot,
                      .ref = market_ref_price(x->st, x->env, ins) / spec->tick * spec->tick};
    struct fill_ref *fr = NULL;
    struct rem *tmp = NULL;
    int64_t *cand = NULL, price = 0, vol = 0;
    int nf = 0;
    i128 dust = 0;

    if (!x->start)
        return;
    if (gather(x, k, &bk) != BT_OK)
        goto oom;
    cand = malloc(sizeof(*cand) * (size_t)(bk.nb + bk.ns + 2));
    tmp = malloc(sizeof(*tmp) * (size_t)(bk.nb + bk.ns + 1));
    fr = calloc((size_t)(bk.nb + bk.ns + 1), sizeof(*fr));
    if (!cand || !tmp || !fr)
        goto oom;
    do {
        clear_price(&bk, &price, &vol, cand);
        allocate(bk.b, bk.nb, true, price, vol, bk.lot, tmp);
        allocate(bk.s, bk.ns, false, price, vol, bk.lot, tmp);
    } while (drop_fok(&bk));
    /* Fills are settled in order-id order (makers last): an account's own
     * orders then consume their reservations in the order they were made. */
    for (int i = 0; i < bk.nb; i++)
        if (bk.b[i].alloc > 0)
            fr[bk.b[i].seq] = (struct fill_ref){&bk.b[i], true};
    for (int i = 0; i < bk.ns; i++)
        if (bk.s[i].alloc > 0)
            fr[bk.s[i].seq] = (struct fill_ref){&bk.s[i], false};
    nf = bk.nb + bk.ns;
    for (int i = 0; i < nf; i++)
        if (fr[i].e)
            settle(x, ins, &fr[i], price, &dust);
    BT_ASSERT(dust >= 0);
    market_xfer(x, MARKET_ACCT_CLEARING, MARKET_ACCT_FEES, MARKET_USD, (int64_t)dust, MARKET_X_DUST,
                ins->id);
    if (vol > 0) {
        ins->last_price = price;
        BT_ASSERT(x->st->hour >= 0); /* roll_hours ran at the start of the step */
        ins->hour_vol[x->st->hour % MARKET_HOURS] += vol;
        ins->volume_total += vol;
    }
    /* What did not trade now and may not rest is cancelled. */
    for (int j = x->start[k]; j < x->start[k + 1]; j++) {
        struct market_order *o = &x->st->ord[x->idx[j]];

        if (o->status == MARKET_LIVE && o->tif != MARKET_GTC)
            market_order_end(x, o, MARKET_CANCELLED,
                             o->tif == MARKET_FOK ? "fok_unfilled" : "ioc_remainder");
    }
    goto out;
oom:
    x->oom = true;
out:
    free(bk.b);
    free(bk.s);
    free(cand);
    free(tmp);
    free(fr);
}
