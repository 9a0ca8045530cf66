/*
 * test_market.c - the market core: validation rules, the batch auction
 * (uniform price, pro-rata tie-break, FOK/IOC), exact balances through the
 * ledger legs, resting/cancel, player-vs-player trades, perp PnL, funding
 * and liquidation, option settlement, Black-Scholes reference values, and
 * deterministic hashes whatever the arrival order of a tick's intents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../tickd/market.h"

#define USD(x) ((int64_t)((x)*1000000.0 + 0.5))
#define BTC(x) ((int64_t)((x)*100000000.0 + 0.5))
#define FAIR   USD(60000)

/* ---- helpers ---- */

static struct market_env env_at(int64_t tick, int64_t fair, int64_t game_s)
{
    return (struct market_env){.tick = tick,
                               .game_s = game_s,
                               .fair = fair,
                               .vol_ppm = 600000,
                               .stress_ppm = 1000000,
                               .seed = 42};
}

static struct market_intent trade(int64_t id, int64_t acct, const char *instr,
                                  enum market_side side, enum market_otype type, int64_t qty,
                                  int64_t limit, enum market_tif tif, int lev, bool reduce_only)
{
    struct market_intent in = {.id = id, .account = acct, .kind = MARKET_INTENT_TRADE};

    snprintf(in.req.instrument, sizeof(in.req.instrument), "%s", instr);
    in.req.side = side;
    in.req.type = type;
    in.req.qty = qty;
    in.req.limit_price = limit;
    in.req.tif = tif;
    in.req.leverage = lev;
    in.req.reduce_only = reduce_only;
    return in;
}

static struct market_intent mkt(int64_t id, int64_t acct, const char *instr, enum market_side side,
                                int64_t qty)
{
    return trade(id, acct, instr, side, MARKET_ORDER_MARKET, qty, 0, MARKET_IOC, 0, false);
}

static struct market_intent lim(int64_t id, int64_t acct, const char *instr, enum market_side side,
                                int64_t qty, int64_t limit)
{
    return trade(id, acct, instr, side, MARKET_ORDER_LIMIT, qty, limit, MARKET_GTC, 0, false);
}

static struct market_intent cancel(int64_t id, int64_t acct, int64_t order)
{
    return (struct market_intent){
        .id = id, .account = acct, .kind = MARKET_INTENT_CANCEL, .order_id = order};
}

/* A ledger kept by the test from the legs alone. */
struct ledger {
    int64_t id[64], usd[64], btc[64];
    int n;
};

static int ledger_idx(struct ledger *l, int64_t id)
{
    for (int i = 0; i < l->n; i++)
        if (l->id[i] == id)
            return i;
    l->id[l->n] = id;
    l->usd[l->n] = l->btc[l->n] = 0;
    return l->n++;
}

static void fund(struct market_state *st, struct ledger *l, int64_t acct, int64_t usd, int64_t btc)
{
    int i = ledger_idx(l, acct);

    l->usd[i] = usd;
    l->btc[i] = btc;
    market_wallet_set(st, acct, usd, btc);
}

/* Posts the legs, checks they sum to zero per currency, that no company
 * goes negative, and that the market's wallet views equal the ledger. */
static void post(const struct market_state *st, struct ledger *l, const struct market_out *out)
{
    int64_t sum[2] = {0, 0};

    for (int i = 0; i < out->n_transfers; i++) {
        const struct market_transfer *t = &out->transfers[i];
        int k = ledger_idx(l, t->account);

        sum[t->currency] += t->amount;
        if (t->currency == MARKET_USD)
            l->usd[k] += t->amount;
        else
            l->btc[k] += t->amount;
    }
    assert_int_equal(sum[MARKET_USD], 0);
    assert_int_equal(sum[MARKET_BTC], 0);
    for (int i = 0; i < l->n; i++) {
        const struct market_acct *a = market_acct_get(st, l->id[i]);

        if (l->id[i] > 0) {
            assert_true(l->usd[i] >= 0);
            assert_true(l->btc[i] >= 0);
        }
        if (a) {
            assert_int_equal(a->usd, l->usd[i]);
            assert_int_equal(a->btc, l->btc[i]);
        }
    }
}

static int64_t bal_usd(struct ledger *l, int64_t id)
{
    return l->usd[ledger_idx(l, id)];
}

static int64_t bal_btc(struct ledger *l, int64_t id)
{
    return l->btc[ledger_idx(l, id)];
}

/* One market with its outputs and the test's own ledger. */
struct fx {
    struct market_params p;
    struct market_state st;
    struct market_out out;
    struct ledger l;
};

static void fx_start(struct fx *f, void (*tune)(struct market_params *))
{
    memset(f, 0, sizeof(*f));
    market_params_default(&f->p);
    if (tune)
        tune(&f->p);
    market_init(&f->st, &f->p);
}

static void fx_end(struct fx *f)
{
    market_out_free(&f->out);
    market_free(&f->st);
}

static void step(struct fx *f, const struct market_env *e, const struct market_intent *in, int n)
{
    struct bt_err err;

    err_clear(&err);
    assert_int_equal(market_step(&f->st, e, in, n, &f->out, &err), BT_OK);
    post(&f->st, &f->l, &f->out);
}

static const struct market_result *result_of(const struct market_out *o, int64_t id)
{
    for (int i = 0; i < o->n_results; i++)
        if (o->results[i].intent_id == id)
            return &o->results[i];
    return NULL;
}

static int64_t filled_qty(const struct market_out *o, int64_t order_id)
{
    int64_t q = 0;

    for (int i = 0; i < o->n_fills; i++)
        if (o->fills[i].order_id == order_id)
            q += o->fills[i].qty;
    return q;
}

static const struct market_fill *fill_of(const struct market_out *o, int64_t order_id)
{
    for (int i = 0; i < o->n_fills; i++)
        if (o->fills[i].order_id == order_id)
            return &o->fills[i];
    return NULL;
}

static const struct market_order *live_order(const struct market_state *st, int64_t id)
{
    for (int i = 0; i < st->n_ord; i++)
        if (st->ord[i].id == id)
            return &st->ord[i];
    return NULL;
}

static const char *done_reason(const struct market_out *o, int64_t id)
{
    for (int i = 0; i < o->n_done; i++)
        if (o->done[i].order_id == id)
            return o->done[i].reason;
    return NULL;
}

/* Makers quoting far away (6 % half spread), so players meet each other. */
static void far_makers(struct market_params *p)
{
    p->mm_half_spread_ppm = 60000;
    p->spot.min_qty = p->spot.lot;
}

/* ---- validation ---- */

static const char *code_of(const struct bt_err *e, const char *field)
{
    for (int i = 0; i < e->nfields; i++)
        if (strcmp(e->fields[i].field, field) == 0)
            return e->fields[i].code;
    return NULL;
}

static void validation_gives_one_error_per_rule(void **state)
{
    struct market_params p;
    struct market_instr spot = {.id = 1, .kind = MARKET_SPOT, .name = "BTC-USD", .open = true};
    struct market_instr perp = {.id = 2, .kind = MARKET_PERP, .name = "BTC-PERP", .open = true};
    struct market_check c;
    struct market_cost cost;
    struct market_order_req r = {.side = MARKET_BUY,
                                 .type = MARKET_ORDER_LIMIT,
                                 .qty = BTC(0.01),
                                 .limit_price = FAIR,
                                 .tif = MARKET_GTC};
    struct bt_err e;

    (void)state;
    market_params_default(&p);
    c = (struct market_check){.p = &p,
                              .ins = &spot,
                              .fair = FAIR,
                              .ref_price = FAIR,
                              .usd_avail = USD(100000),
                              .btc_avail = BTC(1)};
    err_clear(&e);
    assert_int_equal(market_order_check(&r, &c, &cost, &e), BT_OK);
    assert_int_equal(cost.usd, USD(600) + USD(0.6)); /* notional + 0.1 % fee */

    c.ins = NULL;
    err_clear(&e);
    assert_int_equal(market_order_check(&r, &c, &cost, &e), BT_ERR);
    assert_int_equal(e.status, 400);
    assert_string_equal(code_of(&e, "instrument"), "unknown");
    spot.open = false;
    c.ins = &spot;
    err_clear(&e);
    market_order_check(&r, &c, &cost, &e);
    assert_string_equal(code_of(&e, "instrument"), "closed");
    spot.open = true;

    /* Several broken rules at once: each its own field. */
    r.qty = 1500;             /* not on the 1000-sat lot */
    r.limit_price = FAIR + 5; /* not on the 0.01 USD tick */
    r.leverage = 5;           /* spot takes none */
    r.reduce_only = true;     /* spot cannot */
    err_clear(&e);
    assert_int_equal(market_order_check(&r, &c, &cost, &e), BT_ERR);
    assert_string_equal(code_of(&e, "qty"), "step");
    assert_string_equal(code_of(&e, "limit_price"), "step");
    assert_string_equal(code_of(&e, "leverage"), "not_allowed");
    assert_string_equal(code_of(&e, "reduce_only"), "not_allowed");
    assert_int_equal(e.nfields, 4);

    r = (struct market_order_req){.side = MARKET_BUY,
                                  .type = MARKET_ORDER_LIMIT,
                                  .qty = 1000,
                                  .limit_price = USD(70000),
                                  .tif = MARKET_GTC};
    err_clear(&e);
    market_order_check(&r, &c, &cost, &e);
    assert_string_equal(code_of(&e, "qty"), "too_small");
    assert_string_equal(code_of(&e, "limit_price"), "band");
    r.qty = BTC(11);
    r.limit_price = 0;
    err_clear(&e);
    market_order_check(&r, &c, &cost, &e);
    assert_string_equal(code_of(&e, "qty"), "too_large");
    assert_string_equal(code_of(&e, "limit_price"), "required");

    r = (struct market_order_req){.side = MARKET_BUY,
                                  .type = MARKET_ORDER_MARKET,
                                  .qty = BTC(0.01),
                                  .limit_price = FAIR,
                                  .tif = MARKET_GTC};
    err_clear(&e);
    market_order_check(&r, &c, &cost, &e);
    assert_string_equal(code_of(&e, "limit_price"), "not_allowed");
    assert_string_equal(code_of(&e, "time_in_force"), "not_allowed");

    /* Worst case of a market buy is the band edge: 10 % above fair. */
    r.limit_price = 0;
    r.tif = MARKET_IOC;
    c.usd_avail = USD(600);
    err_clear(&e);
    assert_int_equal(market_order_check(&r, &c, &cost, &e), BT_ERR);
    assert_string_equal(code_of(&e, "qty"), "insufficient_funds");
    assert_int_equal(cost.usd, USD(660) + USD(0.66));

    /* No shorting spot without holdings. */
    r.side = MARKET_SELL;
    c.btc_avail = BTC(0.005);
    err_clear(&e);
    market_order_check(&r, &c, &cost, &e);
    assert_string_equal(code_of(&e, "qty"), "insufficient_funds");

    /* Self-trade: a buy crossing the caller's own resting sell. */
    r = (struct market_order_req){.side = MARKET_BUY,
                                  .type = MARKET_ORDER_LIMIT,
                                  .qty = BTC(0.01),
                                  .limit_price = USD(60010),
                                  .tif = MARKET_GTC};
    c.usd_avail = USD(100000);
    c.own_min_sell = USD(60000);
    err_clear(&e);
    market_order_check(&r, &c, &cost, &e);
    assert_string_equal(code_of(&e, "side"), "self_trade");
    r.limit_price = USD(59990); /* below own sell: fine */
    err_clear(&e);
    assert_int_equal(market_order_check(&r, &c, &cost, &e), BT_OK);

    /* Perp: leverage cap, reduce-only without a position, margin at the mark. */
    c = (struct market_check){
        .p = &p, .ins = &perp, .fair = FAIR, .ref_price = FAIR, .usd_avail = USD(100000)};
    r = (struct market_order_req){.side = MARKET_BUY,
                                  .type = MARKET_ORDER_MARKET,
                                  .qty = BTC(0.1),
                                  .tif = MARKET_IOC,
                                  .leverage = 25,
                                  .reduce_only = true};
    err_clear(&e);
    market_order_check(&r, &c, &cost, &e);
    assert_string_equal(code_of(&e, "leverage"), "range");
    assert_string_equal(code_of(&e, "reduce_only"), "no_position");
    r.leverage = 10;
    r.reduce_only = false;
    err_clear(&e);
    assert_int_equal(market_order_check(&r, &c, &cost, &e), BT_OK);
    assert_int_equal(cost.usd, USD(600) + USD(3)); /* 6000 / 10 + 0.05 % of 6000 */
}

/* ---- auction ---- */

static void auction_clears_at_one_uniform_price(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, USD(100), 0);
    struct market_intent in[4];

    (void)state;
    fx_start(&f, far_makers);
    for (int a = 1; a <= 4; a++)
        fund(&f.st, &f.l, a, USD(10000), BTC(10));
    /* D(100.10)=3, D(100.05)=5; S(99.95)=2, S(100.00)=6: 100.05 and 100.00
     * both trade 5 with imbalance 1; 100.00 is closer to fair. */
    in[0] = lim(10, 1, "BTC-USD", MARKET_BUY, BTC(3), USD(100.10));
    in[1] = lim(11, 2, "BTC-USD", MARKET_BUY, BTC(2), USD(100.05));
    in[2] = lim(12, 3, "BTC-USD", MARKET_SELL, BTC(2), USD(99.95));
    in[3] = lim(13, 4, "BTC-USD", MARKET_SELL, BTC(4), USD(100.00));
    step(&f, &e, in, 4);
    for (int i = 0; i < f.out.n_fills; i++)
        assert_int_equal(f.out.fills[i].price, USD(100));
    assert_int_equal(filled_qty(&f.out, 10), BTC(3));
    assert_int_equal(filled_qty(&f.out, 11), BTC(2));
    assert_int_equal(filled_qty(&f.out, 12), BTC(2));
    assert_int_equal(filled_qty(&f.out, 13), BTC(3)); /* the marginal seller */
    assert_non_null(live_order(&f.st, 13));
    assert_int_equal(live_order(&f.st, 13)->filled, BTC(3));
    /* Buyers paid the same price, better than both their limits. */
    assert_int_equal(bal_usd(&f.l, 1), USD(10000) - USD(300) - USD(0.3));
    assert_int_equal(bal_btc(&f.l, 1), BTC(13));
    assert_int_equal(bal_usd(&f.l, 3), USD(10000) + USD(200) - USD(0.2));
    fx_end(&f);
}

/* Two equal sellers at the marginal price share 3 lots: 2 + 1, the odd lot
 * going by a per-tick hash of the order id - the same whichever intent
 * arrived first. */
static int64_t tiebreak_run(bool reversed, int64_t *q5, int64_t *q6)
{
    struct fx f;
    struct market_env e = env_at(7, USD(100), 0);
    struct market_intent in[3];
    int64_t lot;

    fx_start(&f, far_makers);
    lot = f.p.spot.lot;
    for (int a = 1; a <= 3; a++)
        fund(&f.st, &f.l, a, USD(10000), BTC(1));
    in[0] = lim(4, 1, "BTC-USD", MARKET_BUY, 3 * lot, USD(100.05));
    in[reversed ? 2 : 1] = lim(5, 2, "BTC-USD", MARKET_SELL, 2 * lot, USD(100));
    in[reversed ? 1 : 2] = lim(6, 3, "BTC-USD", MARKET_SELL, 2 * lot, USD(100));
    step(&f, &e, in, 3);
    *q5 = filled_qty(&f.out, 5);
    *q6 = filled_qty(&f.out, 6);
    assert_int_equal(fill_of(&f.out, 4)->price, USD(100));
    fx_end(&f);
    return lot;
}

static void auction_pro_rata_tiebreak_ignores_arrival(void **state)
{
    int64_t a5, a6, b5, b6, lot;

    (void)state;
    lot = tiebreak_run(false, &a5, &a6);
    tiebreak_run(true, &b5, &b6);
    assert_int_equal(a5 + a6, 3 * lot);
    assert_true((a5 == 2 * lot && a6 == lot) || (a5 == lot && a6 == 2 * lot));
    assert_int_equal(a5, b5);
    assert_int_equal(a6, b6);
}

static void market_buy_fills_within_book_and_moves_balances(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_level bids[16], asks[16];
    struct market_intent in[1];
    const struct market_fill *fl;
    int nb, na;
    int64_t n, fee;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(10000), 0);
    market_mm_quotes(&f.p, market_instr_get(&f.st, MARKET_SPOT_ID), &e, FAIR, bids, &nb, asks, &na,
                     16);
    assert_true(nb > 0 && na > 0 && bids[0].price < FAIR && asks[0].price > FAIR);
    in[0] = mkt(1, 1, "BTC-USD", MARKET_BUY, BTC(0.01));
    step(&f, &e, in, 1);
    assert_null(result_of(&f.out, 1)); /* not rejected */
    fl = fill_of(&f.out, 1);
    assert_non_null(fl);
    assert_int_equal(fl->qty, BTC(0.01));
    /* Small enough for the best level: the price is the best ask. */
    assert_int_equal(fl->price, asks[0].price);
    n = (BTC(0.01) * (__int128)fl->price + 99999999) / 100000000;
    fee = (n * 1000 + 999999) / 1000000;
    assert_int_equal(fl->fee, fee);
    assert_int_equal(bal_usd(&f.l, 1), USD(10000) - n - fee);
    assert_int_equal(bal_btc(&f.l, 1), BTC(0.01));
    assert_int_equal(bal_usd(&f.l, MARKET_ACCT_FEES), fee);
    assert_int_equal(bal_usd(&f.l, MARKET_ACCT_MM), n); /* makers sold at the notional */
    assert_int_equal(bal_btc(&f.l, MARKET_ACCT_MM), -BTC(0.01));
    assert_int_equal(bal_usd(&f.l, MARKET_ACCT_CLEARING), 0);
    assert_string_equal(done_reason(&f.out, 1), "filled");
    assert_int_equal(f.st.n_ord, 0);
    fx_end(&f);
}

static void limit_rests_then_fills_when_price_crosses(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_intent in[1];
    const struct market_acct *a;
    const struct market_fill *fl;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(10000), 0);
    in[0] = lim(1, 1, "BTC-USD", MARKET_BUY, BTC(0.1), USD(59900));
    step(&f, &e, in, 1);
    assert_int_equal(f.out.n_fills, 0);
    assert_non_null(live_order(&f.st, 1));
    a = market_acct_get(&f.st, 1);
    assert_int_equal(a->res_usd, USD(5990) + USD(5.99));
    assert_int_equal(a->usd, USD(10000));
    /* It shows in the book, below the makers' bids. */
    {
        struct market_level b[32], as[32];
        int nb, na, found = 0;

        market_depth(&f.st, &e, market_instr_get(&f.st, MARKET_SPOT_ID), b, &nb, as, &na, 32);
        for (int i = 0; i < nb; i++)
            if (b[i].price == USD(59900))
                found = b[i].qty >= BTC(0.1);
        assert_true(found);
        assert_true(market_instr_get(&f.st, MARKET_SPOT_ID)->best_bid > USD(59900));
    }

    e = env_at(2, USD(59950), 60);
    step(&f, &e, NULL, 0);
    assert_int_equal(f.out.n_fills, 0);

    e = env_at(3, USD(59800), 120);
    step(&f, &e, NULL, 0);
    fl = fill_of(&f.out, 1);
    assert_non_null(fl);
    assert_int_equal(fl->qty, BTC(0.1));
    assert_true(fl->price <= USD(59900));
    assert_null(live_order(&f.st, 1));
    a = market_acct_get(&f.st, 1);
    assert_int_equal(a->res_usd, 0);
    assert_int_equal(bal_btc(&f.l, 1), BTC(0.1));
    assert_int_equal(bal_usd(&f.l, 1),
                     USD(10000) - market_notional_up(BTC(0.1), fl->price) - fl->fee);
    fx_end(&f);
}

static void cancel_releases_and_others_cannot(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_intent in[2];
    const struct market_result *r;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(10000), 0);
    fund(&f.st, &f.l, 2, USD(10000), 0);
    in[0] = lim(1, 1, "BTC-USD", MARKET_BUY, BTC(0.1), USD(59000));
    step(&f, &e, in, 1);
    assert_true(market_acct_get(&f.st, 1)->res_usd > 0);

    /* Another company's cancel looks exactly like a missing order. */
    e = env_at(2, FAIR, 60);
    in[0] = cancel(2, 2, 1);
    in[1] = cancel(3, 1, 999);
    step(&f, &e, in, 2);
    r = result_of(&f.out, 2);
    assert_non_null(r);
    assert_string_equal(r->field, "order_id");
    assert_string_equal(r->code, "not_found");
    assert_string_equal(result_of(&f.out, 3)->code, "not_found");
    assert_non_null(live_order(&f.st, 1));

    e = env_at(3, FAIR, 120);
    in[0] = cancel(4, 1, 1);
    step(&f, &e, in, 1);
    assert_null(result_of(&f.out, 4)); /* not rejected */
    assert_string_equal(done_reason(&f.out, 1), "cancelled");
    assert_null(live_order(&f.st, 1));
    assert_int_equal(market_acct_get(&f.st, 1)->res_usd, 0);
    assert_int_equal(bal_usd(&f.l, 1), USD(10000));
    fx_end(&f);
}

static void two_players_cross_each_other(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_intent in[2];
    int64_t n = USD(6000);

    (void)state;
    fx_start(&f, far_makers);
    fund(&f.st, &f.l, 1, 0, BTC(1));
    fund(&f.st, &f.l, 2, USD(10000), 0);
    in[0] = lim(1, 1, "BTC-USD", MARKET_SELL, BTC(0.1), USD(60000));
    in[1] = lim(2, 2, "BTC-USD", MARKET_BUY, BTC(0.1), USD(60010));
    step(&f, &e, in, 2);
    assert_int_equal(fill_of(&f.out, 1)->price, USD(60000));
    assert_int_equal(fill_of(&f.out, 2)->price, USD(60000));
    assert_int_equal(bal_btc(&f.l, 1), BTC(0.9));
    assert_int_equal(bal_usd(&f.l, 1), n - USD(6));
    assert_int_equal(bal_btc(&f.l, 2), BTC(0.1));
    assert_int_equal(bal_usd(&f.l, 2), USD(10000) - n - USD(6));
    assert_int_equal(bal_usd(&f.l, MARKET_ACCT_FEES), USD(12));
    assert_int_equal(bal_usd(&f.l, MARKET_ACCT_MM), 0); /* the makers were not involved */
    fx_end(&f);
}

/* One level of 0.01 BTC a side. */
static void thin_makers(struct market_params *p)
{
    p->mm_levels = 1;
    p->mm_depth = BTC(0.01);
}

static void fok_and_ioc(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_intent in[2];

    (void)state;
    fx_start(&f, thin_makers);
    fund(&f.st, &f.l, 1, USD(100000), 0);
    fund(&f.st, &f.l, 2, USD(100000), 0);
    in[0] =
        trade(1, 1, "BTC-USD", MARKET_BUY, MARKET_ORDER_MARKET, BTC(1), 0, MARKET_FOK, 0, false);
    in[1] =
        trade(2, 2, "BTC-USD", MARKET_BUY, MARKET_ORDER_MARKET, BTC(1), 0, MARKET_IOC, 0, false);
    step(&f, &e, in, 2);
    assert_int_equal(filled_qty(&f.out, 1), 0);
    assert_string_equal(done_reason(&f.out, 1), "fok_unfilled");
    assert_true(filled_qty(&f.out, 2) > 0 && filled_qty(&f.out, 2) < BTC(1));
    assert_string_equal(done_reason(&f.out, 2), "ioc_remainder");
    assert_int_equal(bal_usd(&f.l, 1), USD(100000));
    assert_int_equal(f.st.n_ord, 0);
    fx_end(&f);
}

/* ---- perpetual ---- */

static int64_t floor_div(__int128 a, int64_t b)
{
    return (int64_t)(a / b - (a % b != 0 && a < 0));
}

static const struct market_pos *perp_of(const struct market_state *st, int64_t acct)
{
    return market_pos_get(st, acct, MARKET_PERP_ID);
}

static void perp_pnl_signs(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_intent in[2];
    const struct market_fill *fa, *fb;
    int64_t open_a, open_b, fees_a, fees_b;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(10000), 0);
    fund(&f.st, &f.l, 2, USD(10000), 0);
    in[0] = trade(1, 1, "BTC-PERP", MARKET_BUY, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 10,
                  false);
    in[1] = trade(2, 2, "BTC-PERP", MARKET_SELL, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 10,
                  false);
    step(&f, &e, in, 2);
    fa = fill_of(&f.out, 1);
    fb = fill_of(&f.out, 2);
    open_a = fa->price;
    open_b = fb->price;
    fees_a = fa->fee;
    fees_b = fb->fee;
    assert_int_equal(perp_of(&f.st, 1)->qty, BTC(0.1));
    assert_int_equal(perp_of(&f.st, 2)->qty, -BTC(0.1));
    assert_int_equal(perp_of(&f.st, 1)->margin, USD(600)); /* 6000 at the mark / 10 */
    assert_int_equal(bal_usd(&f.l, 1), USD(10000) - USD(600) - fees_a);

    /* The price rises 10 %: both close; the long gains, the short loses. */
    e = env_at(2, USD(66000), 60);
    in[0] =
        trade(3, 1, "BTC-PERP", MARKET_SELL, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 0, true);
    in[1] =
        trade(4, 2, "BTC-PERP", MARKET_BUY, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 0, true);
    step(&f, &e, in, 2);
    fa = fill_of(&f.out, 3);
    fb = fill_of(&f.out, 4);
    assert_true(fa->realized_pnl > USD(500));
    assert_true(fb->realized_pnl < -USD(500));
    assert_int_equal(fa->realized_pnl,
                     floor_div((__int128)BTC(0.1) * (fa->price - open_a), 100000000));
    assert_int_equal(fb->realized_pnl,
                     floor_div((__int128)BTC(0.1) * (open_b - fb->price), 100000000));
    assert_null(perp_of(&f.st, 1));
    assert_null(perp_of(&f.st, 2));
    /* Margin came back with the PnL; only fees are gone. */
    assert_int_equal(bal_usd(&f.l, 1), USD(10000) + fa->realized_pnl - fees_a - fa->fee);
    assert_int_equal(bal_usd(&f.l, 2), USD(10000) + fb->realized_pnl - fees_b - fb->fee);
    fx_end(&f);
}

static void perp_funding_longs_pay_shorts(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 3600);
    struct market_intent in[2];
    int64_t m1, m2, fees_before;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(10000), 0);
    fund(&f.st, &f.l, 2, USD(10000), 0);
    in[0] =
        trade(1, 1, "BTC-PERP", MARKET_BUY, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 5, false);
    in[1] = trade(2, 2, "BTC-PERP", MARKET_SELL, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 5,
                  false);
    step(&f, &e, in, 2);
    assert_false(f.out.funded);
    m1 = perp_of(&f.st, 1)->margin;
    m2 = perp_of(&f.st, 2)->margin;
    fees_before = bal_usd(&f.l, MARKET_ACCT_FEES);
    e = env_at(2, FAIR, 4 * 3600);
    step(&f, &e, NULL, 0);
    assert_false(f.out.funded);
    /* The 8-hour boundary: the book sits around fair (premium 0), so the
     * rate is the interest, 0.01 %: the long pays 0.6 USD, the short gets it. */
    e = env_at(3, FAIR, 8 * 3600);
    step(&f, &e, NULL, 0);
    assert_true(f.out.funded);
    assert_int_equal(f.out.funding_rate_ppm, 100);
    assert_int_equal(perp_of(&f.st, 1)->margin, m1 - USD(0.6));
    assert_int_equal(perp_of(&f.st, 2)->margin, m2 + USD(0.6));
    assert_int_equal(perp_of(&f.st, 1)->funding, -USD(0.6));
    assert_int_equal(perp_of(&f.st, 2)->funding, USD(0.6));
    assert_int_equal(bal_usd(&f.l, MARKET_ACCT_FEES), fees_before); /* no dust: exact */
    fx_end(&f);
}

/* 5 BTC of maker shorts lift their perp mid by 2500 ppm. */
static void skewed_makers(struct market_params *p)
{
    p->mm_skew_ppm_per_btc = 500;
}

static void perp_crowded_longs_push_premium_and_pay_more(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 3600);
    struct market_intent in[1];

    (void)state;
    fx_start(&f, skewed_makers);
    fund(&f.st, &f.l, 1, USD(1000000), 0);
    in[0] =
        trade(1, 1, "BTC-PERP", MARKET_BUY, MARKET_ORDER_MARKET, BTC(5), 0, MARKET_IOC, 5, false);
    step(&f, &e, in, 1);
    assert_int_equal(perp_of(&f.st, MARKET_ACCT_MM)->qty, -BTC(5));
    e = env_at(2, FAIR, 8 * 3600);
    step(&f, &e, NULL, 0);
    assert_true(f.out.funded);
    assert_true(f.out.funding_rate_ppm > 100);
    assert_true(perp_of(&f.st, 1)->funding < 0);
    assert_true(perp_of(&f.st, MARKET_ACCT_MM)->funding > 0);
    fx_end(&f);
}

static const struct market_alert *alert_of(const struct market_out *o, int kind)
{
    for (int i = 0; i < o->n_alerts; i++)
        if (o->alerts[i].kind == kind)
            return &o->alerts[i];
    return NULL;
}

static void perp_liquidation_by_price_shock(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_intent in[1];
    const struct market_alert *a;
    int64_t wallet, ins_before, insurance_paid = 0;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(1000), 0);
    in[0] = trade(1, 1, "BTC-PERP", MARKET_BUY, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 20,
                  false);
    step(&f, &e, in, 1);
    assert_int_equal(perp_of(&f.st, 1)->margin, USD(300));
    wallet = bal_usd(&f.l, 1);
    assert_int_equal(wallet, USD(1000) - USD(300) - USD(3));

    /* -4.3 %: equity ~ 40 USD, under 1.5 x maintenance (~43): a margin call. */
    e = env_at(2, USD(57400), 60);
    step(&f, &e, NULL, 0);
    a = alert_of(&f.out, MARKET_ALERT_MARGIN_CALL);
    assert_non_null(a);
    assert_int_equal(a->account, 1);
    assert_true(a->equity >= a->maintenance);
    assert_non_null(perp_of(&f.st, 1));
    /* Sent once, not every tick. */
    e = env_at(3, USD(57400), 120);
    step(&f, &e, NULL, 0);
    assert_null(alert_of(&f.out, MARKET_ALERT_MARGIN_CALL));

    /* A crash to 50,000 jumps past the bankruptcy price. */
    ins_before = bal_usd(&f.l, MARKET_ACCT_INSURANCE);
    e = env_at(4, USD(50000), 180);
    step(&f, &e, NULL, 0);
    a = alert_of(&f.out, MARKET_ALERT_LIQUIDATED);
    assert_non_null(a);
    assert_int_equal(a->account, 1);
    assert_true(a->equity < 0);
    assert_true(a->price > USD(50000) && a->price < USD(60000)); /* bankruptcy price */
    for (int i = 0; i < f.out.n_transfers; i++)
        if (f.out.transfers[i].kind == MARKET_X_INSURANCE &&
            f.out.transfers[i].account == MARKET_ACCT_INSURANCE)
            insurance_paid -= f.out.transfers[i].amount;
    /* The fund covers exactly the negative equity. */
    assert_int_equal(insurance_paid, -a->equity);
    assert_int_equal(bal_usd(&f.l, MARKET_ACCT_INSURANCE), ins_before + a->equity);
    assert_null(perp_of(&f.st, 1));
    /* The player lost the margin, never more: the wallet is untouched. */
    assert_int_equal(bal_usd(&f.l, 1), wallet);
    assert_true(bal_usd(&f.l, 1) >= 0);
    /* The makers took the position over at the mark, closing their short. */
    assert_null(perp_of(&f.st, MARKET_ACCT_MM));
    fx_end(&f);
}

/* ---- options ---- */

/* GET /market/list's change and volume: a rolling 24 game hours, one slot
 * per game hour, opened with the last price when the hour begins. */
static void rolling_24h_statistics(void **state)
{
    struct fx f;
    struct market_env e;
    struct market_intent in[1];
    const struct market_instr *ins;
    int64_t p1, p2, h = 3600;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(100000), 0);
    e = env_at(1, FAIR, 0); /* hour 0 */
    in[0] = mkt(1, 1, "BTC-USD", MARKET_BUY, BTC(0.01));
    step(&f, &e, in, 1);
    ins = market_instr_get(&f.st, MARKET_SPOT_ID);
    p1 = ins->last_price;
    assert_true(p1 > 0);
    assert_int_equal(market_volume_24h(ins), BTC(0.01));
    assert_int_equal(market_open_24h(ins, f.st.hour), 0); /* nothing traded before */

    e = env_at(2, FAIR + USD(1200), 10 * h); /* hour 10: hours 1..10 open at p1 */
    in[0] = mkt(2, 1, "BTC-USD", MARKET_BUY, BTC(0.02));
    step(&f, &e, in, 1);
    ins = market_instr_get(&f.st, MARKET_SPOT_ID);
    p2 = ins->last_price;
    assert_true(p2 > p1);
    assert_int_equal(f.st.hour, 10);
    assert_int_equal(market_volume_24h(ins), BTC(0.03));
    assert_int_equal(market_open_24h(ins, f.st.hour), p1);

    e = env_at(3, FAIR, 24 * h); /* hour 24 reuses hour 0's slot: its volume leaves */
    step(&f, &e, NULL, 0);
    ins = market_instr_get(&f.st, MARKET_SPOT_ID);
    assert_int_equal(market_volume_24h(ins), BTC(0.02));
    assert_int_equal(market_open_24h(ins, f.st.hour), p1); /* hour 1 opened at p1 */

    e = env_at(4, FAIR, 34 * h); /* hour 34: hours 10..33 remain, hour 10 left too */
    step(&f, &e, NULL, 0);
    ins = market_instr_get(&f.st, MARKET_SPOT_ID);
    assert_int_equal(market_volume_24h(ins), 0);
    assert_int_equal(market_open_24h(ins, f.st.hour), p2); /* hour 11 opened at p2 */

    e = env_at(5, FAIR, 500 * h); /* more than a day in one tick: every slot opens */
    step(&f, &e, NULL, 0);
    ins = market_instr_get(&f.st, MARKET_SPOT_ID);
    for (int k = 0; k < MARKET_HOURS; k++) {
        assert_int_equal(ins->hour_open[k], p2);
        assert_int_equal(ins->hour_vol[k], 0);
    }
    fx_end(&f);
}

static void options_settle_in_and_out_of_the_money(void **state)
{
    struct fx f;
    struct market_env e = env_at(1, FAIR, 0);
    struct market_intent in[3];
    const struct market_instr *call, *put;
    int64_t b_usd, w_btc, c_usd, payoff;

    (void)state;
    fx_start(&f, NULL);
    fund(&f.st, &f.l, 1, USD(10000), 0);  /* buys a call */
    fund(&f.st, &f.l, 2, 0, BTC(1));      /* writes a covered call */
    fund(&f.st, &f.l, 3, USD(100000), 0); /* writes a put */
    step(&f, &e, NULL, 0);                /* lists the series */
    call = market_instr_find(&f.st, "BTC-D7-60000-C");
    put = market_instr_find(&f.st, "BTC-D7-57000-P");
    assert_non_null(call);
    assert_non_null(put);
    assert_int_equal(call->expiry_s, 7 * 86400);
    assert_true(call->mark > 0 && put->mark > 0);

    e = env_at(2, FAIR, 60);
    in[0] = mkt(1, 1, "BTC-D7-60000-C", MARKET_BUY, BTC(0.5));
    in[1] = mkt(2, 2, "BTC-D7-60000-C", MARKET_SELL, BTC(0.5));
    in[2] = mkt(3, 3, "BTC-D7-57000-P", MARKET_SELL, BTC(1));
    step(&f, &e, in, 3);
    for (int i = 1; i <= 3; i++)
        assert_null(result_of(&f.out, i)); /* not rejected */
    assert_int_equal(filled_qty(&f.out, 1), BTC(0.5));
    assert_int_equal(filled_qty(&f.out, 2), BTC(0.5));
    assert_int_equal(filled_qty(&f.out, 3), BTC(1));
    /* Covered: the call writer's BTC and the put writer's strike are held. */
    assert_int_equal(bal_btc(&f.l, 2), BTC(0.5));
    assert_int_equal(market_pos_get(&f.st, 2, call->id)->collateral, BTC(0.5));
    assert_int_equal(market_pos_get(&f.st, 3, put->id)->collateral, USD(57000));
    /* The buyer paid the premium up front. */
    assert_true(bal_usd(&f.l, 1) < USD(10000));
    b_usd = bal_usd(&f.l, 1);
    w_btc = bal_btc(&f.l, 2);
    c_usd = bal_usd(&f.l, 3);

    /* Expiry at 66,000: the call is 6,000 in the money, the put f.out. */
    e = env_at(3, USD(66000), 7 * 86400);
    step(&f, &e, NULL, 0);
    payoff = (int64_t)((__int128)BTC(0.5) * USD(6000) / USD(66000));
    assert_int_equal(bal_btc(&f.l, 1), payoff); /* holder: rounded down */
    assert_int_equal(bal_usd(&f.l, 1), b_usd);
    assert_int_equal(bal_btc(&f.l, 2), w_btc + BTC(0.5) - payoff - 1); /* writer: rounded up */
    assert_int_equal(bal_usd(&f.l, 3), c_usd + USD(57000));            /* put writer keeps it all */
    assert_null(market_instr_find(&f.st, "BTC-D7-60000-C"));
    assert_null(market_pos_get(&f.st, 2, 100));
    assert_non_null(market_instr_find(&f.st, "BTC-D14-60000-C")
                        ? market_instr_find(&f.st, "BTC-D14-60000-C")
                        : market_instr_find(&f.st, "BTC-D14-66000-C"));
    assert_int_equal(bal_btc(&f.l, MARKET_ACCT_CLEARING), 0);
    fx_end(&f);
}

static void black_scholes_reference_values(void **state)
{
    struct market_bs c, p;
    double iv;

    (void)state;
    /* Hull, Options, Futures and Other Derivatives, example 15.6. */
    market_bs_eval(42, 40, 0.5, 0.2, 0.1, true, &c);
    market_bs_eval(42, 40, 0.5, 0.2, 0.1, false, &p);
    assert_true(fabs(c.price - 4.7594) < 1e-4);
    assert_true(fabs(p.price - 0.8086) < 1e-4);
    assert_true(fabs(c.delta - 0.7791) < 1e-4);
    assert_true(fabs(p.delta - (0.7791 - 1)) < 1e-4);
    /* Put-call parity and the greeks' textbook values at d1 = 0.7693. */
    assert_true(fabs(c.price - p.price - (42 - 40 * exp(-0.05))) < 1e-12);
    assert_true(fabs(c.gamma - 0.04996) < 1e-4);
    assert_true(fabs(c.vega - 8.8134) < 1e-3);
    iv = market_bs_iv(c.price, 42, 40, 0.5, 0.1, true);
    assert_true(fabs(iv - 0.2) < 1e-9);
    /* The hand-made functions agree with libm to double precision. */
    for (double x = -30; x <= 30; x += 0.37)
        assert_true(fabs(market_exp(x) - exp(x)) <= 1e-15 * exp(x));
    for (double x = 1e-6; x < 1e7; x *= 3.3)
        assert_true(fabs(market_log(x) - log(x)) <= 1e-15 * fmax(1.0, fabs(log(x))));
    for (double x = -8; x <= 8; x += 0.013)
        assert_true(fabs(market_norm_cdf(x) - 0.5 * erfc(-x / sqrt(2.0))) < 1e-14);
}

/* ---- determinism ---- */

static void shuffle(struct market_intent *v, int n, uint64_t seed)
{
    for (int i = n - 1; i > 0; i--) {
        int j;
        struct market_intent t;

        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        j = (int)((seed >> 33) % (uint64_t)(i + 1));
        t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

static void hash_of(const struct market_state *st, unsigned char out[32])
{
    crypto_generichash_state h;

    crypto_generichash_init(&h, NULL, 0, 32);
    market_hash(st, &h);
    crypto_generichash_final(&h, out, 32);
}

/* A scripted session of 12 ticks with spot, perp and options orders,
 * cancels and price moves.  order: 0 = as written, else shuffle seed. */
static void session(uint64_t order, unsigned char hashes[12][32], struct market_state *keep)
{
    struct market_params p;
    struct market_state st;
    struct market_out out = {0};
    struct market_intent in[32];
    struct bt_err err;
    int64_t id = 1;
    static const int64_t fair[12] = {60000, 60400, 59800, 61000, 62500, 58000,
                                     57000, 59000, 60500, 66000, 52000, 61000};

    market_params_default(&p);
    market_init(&st, &p);
    for (int a = 1; a <= 6; a++)
        market_wallet_set(&st, a, USD(50000), BTC(2));
    for (int t = 0; t < 12; t++) {
        struct market_env e = env_at(t + 1, USD(fair[t]), (int64_t)t * 4 * 3600);
        int n = 0;

        for (int a = 1; a <= 6; a++) {
            enum market_side s = (a + t) % 2 ? MARKET_BUY : MARKET_SELL;

            in[n++] = lim(id++, a, "BTC-USD", s, BTC(0.01) * a,
                          USD(fair[t]) + (s == MARKET_BUY ? -1 : 1) * USD(10) * (a - 3));
            in[n++] = trade(id++, a, "BTC-PERP", (a % 2) ? MARKET_BUY : MARKET_SELL,
                            MARKET_ORDER_MARKET, BTC(0.1) * a, 0, MARKET_IOC, 3 + a, false);
            if (t == 1)
                in[n++] =
                    mkt(id++, a, "BTC-D7-60000-C", a % 2 ? MARKET_BUY : MARKET_SELL, BTC(0.01));
            if (t > 2 && a == 2) {
                in[n] = cancel(id, a, id - 8);
                n++;
                id++;
            }
        }
        if (order)
            shuffle(in, n, order + (uint64_t)t);
        err_clear(&err);
        assert_int_equal(market_step(&st, &e, in, n, &out, &err), BT_OK);
        hash_of(&st, hashes[t]);
    }
    market_out_free(&out);
    if (keep)
        *keep = st;
    else
        market_free(&st);
}

static void same_intents_any_arrival_order_same_hashes(void **state)
{
    unsigned char a[12][32], b[12][32], c[12][32];

    (void)state;
    session(0, a, NULL);
    session(12345, b, NULL);
    session(99, c, NULL);
    for (int t = 0; t < 12; t++) {
        assert_memory_equal(a[t], b[t], 32);
        assert_memory_equal(a[t], c[t], 32);
    }
    /* The hashes do move: each tick changes the state. */
    assert_memory_not_equal(a[0], a[1], 32);
    assert_memory_not_equal(a[10], a[11], 32);
}

static void snapshot_round_trip_keeps_hash(void **state)
{
    unsigned char h[12][32], h1[32], h2[32];
    struct market_state st, back;
    struct json_object *j;
    struct bt_err err;
    struct market_out o1 = {0}, o2 = {0};
    struct market_env e = env_at(13, USD(60000), 12 * 4 * 3600);
    struct market_intent in[1];

    (void)state;
    session(0, h, &st);
    assert_true(st.n_pos > 0);
    j = market_to_json(&st);
    /* Through text, as it is stored. */
    {
        struct json_object *text = j;

        j = json_tokener_parse(json_object_to_json_string(text));
        json_object_put(text);
    }
    err_clear(&err);
    assert_int_equal(market_from_json(&back, j, &err), BT_OK);
    json_object_put(j);
    hash_of(&st, h1);
    hash_of(&back, h2);
    assert_memory_equal(h1, h2, 32);
    /* And both evolve identically. */
    in[0] = mkt(10000, 3, "BTC-PERP", MARKET_SELL, BTC(0.2));
    assert_int_equal(market_step(&st, &e, in, 1, &o1, &err), BT_OK);
    assert_int_equal(market_step(&back, &e, in, 1, &o2, &err), BT_OK);
    hash_of(&st, h1);
    hash_of(&back, h2);
    assert_memory_equal(h1, h2, 32);
    assert_int_equal(o1.n_transfers, o2.n_transfers);
    market_out_free(&o1);
    market_out_free(&o2);
    market_free(&st);
    market_free(&back);
}

/* Accounts first seen in opposite orders end a tick in the same canonical
 * order (accounts by id, positions by account then instrument), so a
 * market rebuilt from rows in that order hashes like the one in memory. */
static void state_ends_each_tick_in_canonical_order(void **state)
{
    struct market_params p;
    struct market_state a, b;
    struct market_out oa = {0}, ob = {0};
    struct market_env e = env_at(1, FAIR, 3600);
    struct market_intent in[2];
    unsigned char ha[32], hb[32];
    struct bt_err err;

    (void)state;
    market_params_default(&p);
    market_init(&a, &p);
    market_init(&b, &p);
    market_wallet_set(&a, 9, USD(100000), BTC(1));
    market_wallet_set(&a, 4, USD(100000), BTC(1));
    market_wallet_set(&b, 4, USD(100000), BTC(1));
    market_wallet_set(&b, 9, USD(100000), BTC(1));
    in[0] =
        trade(2, 9, "BTC-PERP", MARKET_BUY, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 2, false);
    in[1] = trade(3, 4, "BTC-PERP", MARKET_SELL, MARKET_ORDER_MARKET, BTC(0.1), 0, MARKET_IOC, 2,
                  false);
    err_clear(&err);
    assert_int_equal(market_step(&a, &e, in, 2, &oa, &err), BT_OK);
    assert_int_equal(market_step(&b, &e, in, 2, &ob, &err), BT_OK);
    for (int i = 1; i < a.n_acc; i++)
        assert_true(a.acc[i - 1].id < a.acc[i].id);
    for (int i = 1; i < a.n_pos; i++)
        assert_true(
            a.pos[i - 1].account < a.pos[i].account ||
            (a.pos[i - 1].account == a.pos[i].account && a.pos[i - 1].instr < a.pos[i].instr));
    assert_true(a.n_pos >= 2);
    /* The lookups still find every account and position after the sort. */
    assert_non_null(market_acct_get(&a, 9));
    assert_non_null(market_pos_get(&a, 4, MARKET_PERP_ID));
    assert_int_equal(market_pos_get(&a, 9, MARKET_PERP_ID)->qty, BTC(0.1));
    hash_of(&a, ha);
    hash_of(&b, hb);
    assert_memory_equal(ha, hb, 32);
    market_out_free(&oa);
    market_out_free(&ob);
    market_free(&a);
    market_free(&b);
}

static void trade_bodies_parse_to_integers_with_defaults(void **state)
{
    struct market_order_req r;
    struct bt_err err;
    struct json_object *j;
    int64_t id = 0;

    (void)state;
    err_clear(&err);
    j = json_tokener_parse("{\"instrument\":\"BTC-USD\",\"side\":\"sell\",\"type\":"
                           "\"limit\",\"qty\":\"0.015\",\"limit_price\":\"64000.5\"}");
    assert_int_equal(market_trade_parse(j, &r, &err), BT_OK);
    assert_string_equal(r.instrument, "BTC-USD");
    assert_int_equal(r.side, MARKET_SELL);
    assert_int_equal(r.type, MARKET_ORDER_LIMIT);
    assert_int_equal(r.qty, 1500000);
    assert_int_equal(r.limit_price, USD(64000.5));
    assert_int_equal(r.tif, MARKET_GTC); /* limit orders rest by default */
    json_object_put(j);
    j = json_tokener_parse("{\"instrument\":\"BTC-PERP\",\"side\":\"buy\",\"type\":"
                           "\"market\",\"qty\":\"1\",\"leverage\":5,\"reduce_only\":null,"
                           "\"time_in_force\":\"fok\"}");
    assert_int_equal(market_trade_parse(j, &r, &err), BT_OK);
    assert_int_equal(r.tif, MARKET_FOK);
    assert_int_equal(r.leverage, 5);
    assert_false(r.reduce_only);
    json_object_put(j);
    j = json_tokener_parse("{\"instrument\":\"BTC-USD\",\"side\":\"buy\",\"type\":"
                           "\"market\",\"qty\":\"1\"}");
    assert_int_equal(market_trade_parse(j, &r, &err), BT_OK);
    assert_int_equal(r.tif, MARKET_IOC); /* market orders never rest */
    json_object_put(j);
    /* Binary floats and unknown enums: one field error each. */
    j = json_tokener_parse("{\"instrument\":\"BTC-USD\",\"side\":\"hold\",\"type\":"
                           "\"market\",\"qty\":0.5}");
    assert_int_equal(market_trade_parse(j, &r, &err), BT_ERR);
    assert_int_equal(err.status, 400);
    assert_int_equal(err.nfields, 2);
    json_object_put(j);
    err_clear(&err);
    j = json_tokener_parse("{\"order_id\":42}");
    assert_int_equal(market_cancel_parse(j, &id, &err), BT_OK);
    assert_int_equal(id, 42);
    json_object_put(j);
    j = json_tokener_parse("{\"order_id\":\"42\"}");
    assert_int_equal(market_cancel_parse(j, &id, &err), BT_ERR);
    assert_string_equal(err.fields[0].field, "order_id");
    json_object_put(j);
}

static void i128_text_round_trips_through_snapshots(void **state)
{
    char b[MARKET_I128_LEN];
    market_i128 big = (market_i128)INT64_MAX * 1000 + 7;

    (void)state;
    assert_string_equal(market_i128_str(0, b), "0");
    assert_string_equal(market_i128_str(-42, b), "-42");
    assert_string_equal(market_i128_str(big, b), "9223372036854775807007");
    assert_string_equal(market_i128_str(-big, b), "-9223372036854775807007");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validation_gives_one_error_per_rule),
        cmocka_unit_test(auction_clears_at_one_uniform_price),
        cmocka_unit_test(auction_pro_rata_tiebreak_ignores_arrival),
        cmocka_unit_test(market_buy_fills_within_book_and_moves_balances),
        cmocka_unit_test(limit_rests_then_fills_when_price_crosses),
        cmocka_unit_test(cancel_releases_and_others_cannot),
        cmocka_unit_test(two_players_cross_each_other),
        cmocka_unit_test(fok_and_ioc),
        cmocka_unit_test(perp_pnl_signs),
        cmocka_unit_test(perp_funding_longs_pay_shorts),
        cmocka_unit_test(perp_crowded_longs_push_premium_and_pay_more),
        cmocka_unit_test(perp_liquidation_by_price_shock),
        cmocka_unit_test(rolling_24h_statistics),
        cmocka_unit_test(options_settle_in_and_out_of_the_money),
        cmocka_unit_test(black_scholes_reference_values),
        cmocka_unit_test(same_intents_any_arrival_order_same_hashes),
        cmocka_unit_test(snapshot_round_trip_keeps_hash),
        cmocka_unit_test(state_ends_each_tick_in_canonical_order),
        cmocka_unit_test(trade_bodies_parse_to_integers_with_defaults),
        cmocka_unit_test(i128_text_round_trips_through_snapshots),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
