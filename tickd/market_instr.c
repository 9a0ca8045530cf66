/*
 * market_instr.c - parameters, exact money arithmetic and order validation.
 *
 * Shared by the market service (request validation) and tickd (re-checking
 * an order when the tick applies it), so it must stay pure: no state, no
 * I/O, no floating point.  Each validation rule records its own field error
 * so a client sees every problem of a request at once.
 */
#include "market_instr.h"

#include "valid.h"

#include <stdio.h>
#include <string.h>

typedef __int128 i128;

int64_t market_open_24h(const struct market_instr *ins, int64_t h)
{
    for (int k = 1; k <= MARKET_HOURS; k++) {
        int64_t v = ins->hour_open[(h + k) % MARKET_HOURS];
        if (v > 0)
            return v;
    }
    return 0;
}

int64_t market_volume_24h(const struct market_instr *ins)
{
    int64_t v = 0;

    for (int k = 0; k < MARKET_HOURS; k++)
        v += ins->hour_vol[k];
    return v;
}

void market_params_default(struct market_params *p)
{
    *p = (struct market_params){
        /* Spot: 0.01 USD tick, 0.00001 BTC lot, 0.0001..10 BTC, 0.1 % fee, 10 % band. */
        .spot = {10000, 1000, 10000, 1000000000, 1000, 100000},
        /* Perp: 0.1 USD tick, 0.001 BTC lot, 0.001..100 BTC, 0.05 % fee, 10 % band. */
        .perp = {100000, 100000, 100000, 10000000000, 500, 100000},
        /* Options: 0.1 USD tick, 0.01 BTC lot, 0.01..10 BTC, 0.3 % of premium, 50 % band. */
        .option = {100000, 1000000, 1000000, 1000000000, 3000, 500000},
        .lev_max = 20,
        .mmr_ppm = 5000,     /* 0.5 % (Binance's first tier is 0.4 %) */
        .call_ppm = 1500000, /* alert at 1.5x maintenance */
        .funding_interval_s = 8 * 3600,
        .interest_ppm = 100, /* 0.01 % per 8 h */
        .premium_clamp_ppm = 500,
        .funding_cap_ppm = 7500,
        .mm_levels = 10,
        .mm_half_spread_ppm = 100,
        .mm_depth = 50000000, /* 0.5 BTC per level */
        .mm_ref_vol_ppm = 600000,
        .mm_skew_ppm_per_btc = 20,
        .mm_skew_max_ppm = 5000,
        .opt_mm_levels = 3,
        .opt_half_spread_ppm = 20000, /* 2 % of the theoretical price */
        .opt_mm_depth = 100000000,
        .opt_expiry_interval_s = 7 * 86400,
        .opt_expiries = 3,
        .opt_strikes = 4,
        .opt_strike_step_ppm = 50000,
        .opt_strike_round = 1000000000, /* 1,000 USD */
        .opt_rate_ppm = 0,
        .opt_min_life_s = 3600,
        .order_ttl_s = 30 * 86400,
    };
}

const struct market_spec *market_spec_of(const struct market_params *p, enum market_kind k)
{
    return k == MARKET_SPOT ? &p->spot : k == MARKET_PERP ? &p->perp : &p->option;
}

int64_t market_muldiv(int64_t a, int64_t b, int64_t c)
{
    return (int64_t)((i128)a * b / c);
}

int64_t market_muldiv_up(int64_t a, int64_t b, int64_t c)
{
    return (int64_t)(((i128)a * b + c - 1) / c);
}

int64_t market_notional(int64_t qty, int64_t price)
{
    return market_muldiv(qty, price, MARKET_SATS);
}

int64_t market_notional_up(int64_t qty, int64_t price)
{
    return market_muldiv_up(qty, price, MARKET_SATS);
}

int64_t market_fee(int64_t notional, int64_t fee_ppm)
{
    return notional > 0 ? market_muldiv_up(notional, fee_ppm, MARKET_PPM) : 0;
}

static int64_t floor_to(int64_t v, int64_t step)
{
    return v / step * step;
}

static int64_t ceil_to(int64_t v, int64_t step)
{
    return (v + step - 1) / step * step;
}

void market_band(const struct market_params *p, const struct market_instr *ins, int64_t ref,
                 int64_t fair, int64_t *lo, int64_t *hi)
{
    const struct market_spec *s = market_spec_of(p, ins->kind);
    int64_t w = market_muldiv(ref, s->band_ppm, MARKET_PPM);

    /* Options far out of the money are worth almost nothing, so their band
     * also gets an absolute allowance of 1 % of the BTC price. */
    *lo = ceil_to(ref - w, s->tick);
    *hi = floor_to(ref + w + (ins->kind == MARKET_OPTION ? fair / 100 : 0), s->tick);
    if (*lo < s->tick)
        *lo = s->tick;
    if (*hi < *lo)
        *hi = *lo;
}

int64_t market_worst_price(const struct market_params *p, const struct market_instr *ins,
                           enum market_side side, int64_t ref, int64_t fair)
{
    int64_t lo, hi;

    market_band(p, ins, ref, fair, &lo, &hi);
    return side == MARKET_BUY ? hi : lo;
}

/* The part of an order that opens or extends a position (the rest closes). */
static int64_t opening_qty(enum market_side side, int64_t qty, int64_t position, bool reduce_only)
{
    int64_t closable =
        side == MARKET_BUY ? (position < 0 ? -position : 0) : (position > 0 ? position : 0);

    if (reduce_only)
        return 0;
    return qty > closable ? qty - closable : 0;
}

struct market_cost market_order_cost(const struct market_params *p, const struct market_instr *ins,
                                     enum market_side side, int64_t qty, int64_t limit,
                                     bool reduce_only, int32_t leverage, int64_t fair,
                                     int64_t position)
{
    const struct market_spec *s = market_spec_of(p, ins->kind);
    struct market_cost c = {0, 0};
    int64_t open = opening_qty(side, qty, position, reduce_only), n;

    switch (ins->kind) {
    case MARKET_SPOT:
        if (side == MARKET_BUY) {
            n = market_notional_up(qty, limit);
            c.usd = n + market_fee(n, s->fee_ppm);
        } else {
            c.btc = qty;
        }
        break;
    case MARKET_PERP:
        n = market_notional_up(qty, fair);
        c.usd = market_fee(n, s->fee_ppm) +
                market_muldiv_up(market_notional_up(open, fair), 1, leverage > 0 ? leverage : 1);
        break;
    case MARKET_OPTION:
        if (side == MARKET_BUY) {
            n = market_notional_up(qty, limit);
            c.usd = n + market_fee(n, s->fee_ppm);
        } else if (ins->call) {
            c.btc = open;
        } else {
            c.usd = market_notional_up(open, ins->strike);
        }
        break;
    }
    return c;
}

/* Decimal text of an amount for messages: scale 8 (BTC) or 6 (USD). */
struct dec {
    char s[32];
};

static struct dec dec(int64_t v, int scale)
{
    struct dec d;

    valid_format_decimal(v, scale, d.s, sizeof(d.s));
    return d;
}

static void check_qty(const struct market_order_req *o, const struct market_spec *s,
                      struct bt_err *err)
{
    if (o->qty <= 0)
        err_field(err, "qty", "range", "must be positive");
    else if (o->qty % s->lot != 0)
        err_field(err, "qty", "step", "must be a multiple of %s BTC", dec(s->lot, 8).s);
    else if (o->qty < s->min_qty)
        err_field(err, "qty", "too_small", "must be at least %s BTC", dec(s->min_qty, 8).s);
    else if (o->qty > s->max_qty)
        err_field(err, "qty", "too_large", "must be at most %s BTC", dec(s->max_qty, 8).s);
}

static void check_price(const struct market_order_req *o, const struct market_check *c,
                        const struct market_spec *s, struct bt_err *err)
{
    int64_t lo, hi;

    if (o->type == MARKET_ORDER_MARKET) {
        if (o->limit_price != 0)
            err_field(err, "limit_price", "not_allowed", "market orders take no limit price");
        return;
    }
    if (o->limit_price <= 0) {
        err_field(err, "limit_price", "required", "limit orders need a positive limit price");
        return;
    }
    if (o->limit_price % s->tick != 0) {
        err_field(err, "limit_price", "step", "must be a multiple of %s USD", dec(s->tick, 6).s);
        return;
    }
    market_band(c->p, c->ins, c->ref_price, c->fair, &lo, &hi);
    if (o->limit_price < lo || o->limit_price > hi)
        err_field(err, "limit_price", "band", "must lie between %s and %s USD", dec(lo, 6).s,
                  dec(hi, 6).s);
}

static void check_terms(const struct market_order_req *o, const struct market_check *c,
                        struct bt_err *err)
{
    enum market_kind k = c->ins->kind;

    if (o->type == MARKET_ORDER_MARKET && o->tif == MARKET_GTC)
        err_field(err, "time_in_force", "not_allowed", "market orders are IOC or FOK");
    if (k == MARKET_PERP) {
        if (o->leverage < 0 || o->leverage > c->p->lev_max)
            err_field(err, "leverage", "range", "must be between 1 and %d", (int)c->p->lev_max);
    } else if (o->leverage != 0) {
        err_field(err, "leverage", "not_allowed", "only perpetual orders take a leverage");
    }
    if (o->reduce_only) {
        if (k == MARKET_SPOT)
            err_field(err, "reduce_only", "not_allowed", "spot orders cannot be reduce-only");
        else if ((o->side == MARKET_BUY && c->position >= 0) ||
                 (o->side == MARKET_SELL && c->position <= 0))
            err_field(err, "reduce_only", "no_position", "there is no opposite position to reduce");
    }
}

/* Self-trade prevention: an account's buy and sell on one instrument may
 * never be able to cross, so in a uniform-price auction it can never trade
 * with itself.  A market order crosses any opposite order. */
static void check_self_trade(const struct market_order_req *o, const struct market_check *c,
                             struct bt_err *err)
{
    bool mkt = o->type == MARKET_ORDER_MARKET;

    if (o->side == MARKET_BUY && c->own_min_sell > 0 && (mkt || o->limit_price >= c->own_min_sell))
        err_field(err, "side", "self_trade", "would cross your own sell order; cancel it first");
    if (o->side == MARKET_SELL && c->own_max_buy > 0 && (mkt || o->limit_price <= c->own_max_buy))
        err_field(err, "side", "self_trade", "would cross your own buy order; cancel it first");
}

int market_order_check(const struct market_order_req *o, const struct market_check *c,
                       struct market_cost *cost, struct bt_err *err)
{
    const struct market_spec *s;
    int64_t limit;

    *cost = (struct market_cost){0, 0};
    if (!c->ins) {
        err_field(err, "instrument", "unknown", "no such instrument");
        return err_check_fields(err);
    }
    if (!c->ins->open) {
        err_field(err, "instrument", "closed", "the instrument is not open for trading");
        return err_check_fields(err);
    }
    s = market_spec_of(c->p, c->ins->kind);
    check_qty(o, s, err);
    check_price(o, c, s, err);
    check_terms(o, c, err);
    check_self_trade(o, c, err);
    if (err->nfields > 0)
        return err_check_fields(err);
    limit = o->type == MARKET_ORDER_LIMIT
                ? o->limit_price
                : market_worst_price(c->p, c->ins, o->side, c->ref_price, c->fair);
    *cost = market_order_cost(c->p, c->ins, o->side, o->qty, limit, o->reduce_only, o->leverage,
                              c->fair, c->position);
    if (cost->usd > c->usd_avail)
        err_field(err, "qty", "insufficient_funds",
                  "needs %s USD available (worst case), you have %s", dec(cost->usd, 6).s,
                  dec(c->usd_avail, 6).s);
    if (cost->btc > c->btc_avail)
        err_field(err, "qty", "insufficient_funds", "needs %s BTC available, you have %s",
                  dec(cost->btc, 8).s, dec(c->btc_avail, 8).s);
    return err_check_fields(err);
}

/* ---- requests ---- */

static const char *const side_names[] = {"buy", "sell", NULL};
static const char *const type_names[] = {"market", "limit", NULL};
static const char *const tif_names[] = {"gtc", "ioc", "fok", NULL};
static const char *const kind_names[] = {"spot", "perp", "option", NULL};

static const struct valid_rule trade_rules[] = {
    VSTR(struct market_trade_in, instrument, VF_REQUIRED | VF_PRINTABLE, 1, MARKET_NAME_LEN - 1),
    VENUM(struct market_trade_in, side, VF_REQUIRED, side_names),
    VENUM(struct market_trade_in, type, VF_REQUIRED, type_names),
    VDEC(struct market_trade_in, qty, VF_REQUIRED, 8, 1, 100000000000000LL, 0),
    VDEC(struct market_trade_in, limit_price, VF_NULLABLE, 6, 1, 100000000000000LL, 0),
    VBOOL(struct market_trade_in, reduce_only, VF_NULLABLE),
    VENUM(struct market_trade_in, time_in_force, VF_NULLABLE, tif_names),
    VINT(struct market_trade_in, leverage, VF_NULLABLE, 1, 1000),
    VALID_END,
};

static const struct valid_rule cancel_rules[] = {
    VID(struct market_cancel_in, order_id, VF_REQUIRED),
    VALID_END,
};

static int name_index(const char *const *names, const char *s)
{
    for (int i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int market_trade_parse(struct json_object *body, struct market_order_req *req, struct bt_err *err)
{
    struct market_trade_in in = {0};

    memset(req, 0, sizeof(*req));
    if (valid_object(body, trade_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    snprintf(req->instrument, sizeof(req->instrument), "%s", in.instrument);
    req->side = (enum market_side)name_index(side_names, in.side);
    req->type = (enum market_otype)name_index(type_names, in.type);
    req->qty = in.qty;
    req->limit_price = in.limit_price;
    req->reduce_only = in.reduce_only;
    req->leverage = (int32_t)in.leverage;
    if (in.time_in_force)
        req->tif = (enum market_tif)name_index(tif_names, in.time_in_force);
    else
        req->tif = req->type == MARKET_ORDER_MARKET ? MARKET_IOC : MARKET_GTC;
    return BT_OK;
}

int market_cancel_parse(struct json_object *body, int64_t *order_id, struct bt_err *err)
{
    struct market_cancel_in in = {0};

    if (valid_object(body, cancel_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    *order_id = in.order_id;
    return BT_OK;
}

const char *market_side_name(enum market_side s)
{
    return side_names[s == MARKET_SELL];
}

const char *market_type_name(enum market_otype t)
{
    return type_names[t == MARKET_ORDER_LIMIT];
}

const char *market_tif_name(enum market_tif t)
{
    return tif_names[t == MARKET_FOK ? 2 : t == MARKET_IOC ? 1 : 0];
}

const char *market_kind_name(enum market_kind k)
{
    return kind_names[k == MARKET_OPTION ? 2 : k == MARKET_PERP ? 1 : 0];
}

int market_side_of(const char *s)
{
    return name_index(side_names, s);
}

int market_type_of(const char *s)
{
    return name_index(type_names, s);
}

int market_tif_of(const char *s)
{
    return name_index(tif_names, s);
}

int market_kind_of(const char *s)
{
    return name_index(kind_names, s);
}
