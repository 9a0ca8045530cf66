/*
 * market_instr.h - instruments, units, parameters and order validation.
 *
 * This is the part of the market that both the market service (to answer
 * 400 with one field error per broken rule) and tickd (to re-check an order
 * against the balances of the tick that applies it) use.  It is pure:
 * integers in, integers and a struct bt_err out, no I/O and no state, so
 * the handler links market_instr.o alone (see the Makefile).
 *
 * Units (everywhere in the market):
 *   quantity  satoshis of BTC (spot amount, perp size, options: the
 *             underlying amount, 1e8 = one option on one BTC);
 *   price     micro-USD per BTC (options: premium per BTC of underlying);
 *   money     micro-USD, or satoshis for BTC amounts;
 *   rates     parts per million (ppm).
 * notional = qty * price / 1e8, computed with 128-bit intermediates and
 * rounded in the direction stated at each use (payers round up, receivers
 * down, so pools never go short; the dust goes to the fee account).
 */
#ifndef BT_MARKET_INSTR_H
#define BT_MARKET_INSTR_H

#include <stdbool.h>
#include <stdint.h>
#include "err.h"

#define MARKET_SATS            100000000LL /* satoshis per BTC */
#define MARKET_PPM             1000000LL
#define MARKET_NAME_LEN        32
#define MARKET_SPOT_ID         1
#define MARKET_PERP_ID         2
#define MARKET_FIRST_OPTION_ID 100

enum market_kind { MARKET_SPOT, MARKET_PERP, MARKET_OPTION };
enum market_side { MARKET_BUY, MARKET_SELL };
enum market_otype { MARKET_ORDER_MARKET, MARKET_ORDER_LIMIT };
enum market_tif { MARKET_GTC, MARKET_IOC, MARKET_FOK };
enum market_currency { MARKET_USD, MARKET_BTC };

/* Per instrument kind: price tick, size lot and limits, fee, price band. */
struct market_spec {
    int64_t tick;     /* price step, micro-USD */
    int64_t lot;      /* quantity step, sats */
    int64_t min_qty;  /* sats */
    int64_t max_qty;  /* sats */
    int64_t fee_ppm;  /* of the notional (options: of the premium), paid by players only */
    int64_t band_ppm; /* limit prices within ref * (1 +- band) */
};

struct market_params {
    struct market_spec spot, perp, option;
    /* perpetual */
    int32_t lev_max;            /* leverage cap; initial margin = notional / leverage */
    int64_t mmr_ppm;            /* maintenance margin rate */
    int64_t call_ppm;           /* margin call when equity < maintenance * call_ppm / 1e6 */
    int64_t funding_interval_s; /* game seconds between fundings (8 h) */
    int64_t interest_ppm;       /* per funding interval (0.01 %) */
    int64_t premium_clamp_ppm;  /* clamp(interest - premium, +-0.05 %) */
    int64_t funding_cap_ppm;    /* |rate| cap */
    /* simulated market makers */
    int32_t mm_levels;
    int64_t mm_half_spread_ppm;  /* at the reference volatility and no stress */
    int64_t mm_depth;            /* sats per level at the reference volatility */
    int64_t mm_ref_vol_ppm;      /* reference annualised volatility */
    int64_t mm_skew_ppm_per_btc; /* perp mid moves against the makers' inventory */
    int64_t mm_skew_max_ppm;
    int32_t opt_mm_levels;
    int64_t opt_half_spread_ppm; /* of the theoretical price */
    int64_t opt_mm_depth;        /* sats per level */
    /* options listing */
    int64_t opt_expiry_interval_s; /* expiries on multiples of this (game seconds) */
    int32_t opt_expiries;          /* listed expiries at a time */
    int32_t opt_strikes;           /* strikes on each side of the centre */
    int64_t opt_strike_step_ppm;   /* strike spacing, of the price at listing */
    int64_t opt_strike_round;      /* strikes are multiples of this (micro-USD) */
    int64_t opt_rate_ppm;          /* risk-free rate for Black-Scholes, annual */
    int64_t opt_min_life_s;        /* no new expiry closer than this */
    /* orders */
    int64_t order_ttl_s; /* resting orders expire after this much game time */
};

#define MARKET_HOURS 24 /* the list's rolling window, in game hours */

/* One tradable instrument.  The statistics at the end are maintained by the
 * tick (market.h) and shown by GET /market/list. */
struct market_instr {
    int32_t id;
    enum market_kind kind;
    char name[MARKET_NAME_LEN];
    bool call;        /* options */
    int64_t strike;   /* options, micro-USD */
    int64_t expiry_s; /* options, game seconds */
    bool open;
    int64_t last_price, mark, best_bid, best_ask; /* 0 = none */
    /* Rolling 24 game hours, one slot per game hour (slot = hour % 24):
     * the last price when the hour began and the sats traded in it. */
    int64_t hour_open[MARKET_HOURS], hour_vol[MARKET_HOURS];
    int64_t volume_total;  /* sats */
    int64_t open_interest; /* sats, long side */
};

/* The price 24 game hours ago (the open of the oldest hour of the window
 * that has one; 0 when none) and the volume of the window, at game hour h. */
int64_t market_open_24h(const struct market_instr *ins, int64_t h);
int64_t market_volume_24h(const struct market_instr *ins);

/* A trade request in integers (the handler parses the decimal strings with
 * valid_parse_decimal: qty at scale 8 = sats, prices at scale 6). */
struct market_order_req {
    char instrument[MARKET_NAME_LEN];
    enum market_side side;
    enum market_otype type;
    int64_t qty;
    int64_t limit_price; /* 0 = absent */
    bool reduce_only;
    enum market_tif tif; /* market orders: IOC or FOK */
    int32_t leverage;    /* 0 = absent (perp default 1) */
};

/* What validation needs to know about the world and the caller. */
struct market_check {
    const struct market_params *p;
    const struct market_instr *ins; /* NULL: unknown name */
    int64_t fair;                   /* BTC fair value (perp mark) */
    int64_t ref_price;              /* fair (spot, perp) or theoretical price (options) */
    int64_t usd_avail, btc_avail;   /* balance minus reservations */
    int64_t position;               /* signed quantity held on this instrument */
    int64_t own_max_buy;            /* highest limit of the caller's live buys here, 0 = none */
    int64_t own_min_sell;           /* lowest limit of the caller's live sells here, 0 = none */
};

/* Worst-case cost of an order: what is reserved while it lives. */
struct market_cost {
    int64_t usd, btc;
};

/* ---- requests (the JSON of market.trade / market.cancel intents) ---- */

struct json_object;

/* POST /market/trade as validated by the rule table (strings borrowed from
 * the JSON object). */
struct market_trade_in {
    const char *instrument, *side, *type, *time_in_force;
    int64_t qty;         /* decimal string, scale 8 (sats) */
    int64_t limit_price; /* decimal string, scale 6 (micro-USD), 0 = absent */
    bool reduce_only;
    int64_t leverage; /* 0 = absent */
};

struct market_cancel_in {
    int64_t order_id;
};

/* Parses and shape-checks a trade body (one field error per broken rule)
 * into *req.  The market rules (instrument, steps, bands, funds) are
 * market_order_check's.  BT_OK or BT_ERR with a 400 problem in *err. */
int market_trade_parse(struct json_object *body, struct market_order_req *req, struct bt_err *err);
int market_cancel_parse(struct json_object *body, int64_t *order_id, struct bt_err *err);

/* Names of the enums as the API spells them. */
const char *market_side_name(enum market_side s);
const char *market_type_name(enum market_otype t);
const char *market_tif_name(enum market_tif t);
const char *market_kind_name(enum market_kind k);
/* And back: the enum value of a name, -1 for an unknown one. */
int market_side_of(const char *s);
int market_type_of(const char *s);
int market_tif_of(const char *s);
int market_kind_of(const char *s);

void market_params_default(struct market_params *p);
const struct market_spec *market_spec_of(const struct market_params *p, enum market_kind k);

/* qty * price / 1e8 rounded down / up (128-bit intermediate). */
int64_t market_notional(int64_t qty, int64_t price);
int64_t market_notional_up(int64_t qty, int64_t price);
/* a * b / c rounded down / up, for non-negative a, b and positive c. */
int64_t market_muldiv(int64_t a, int64_t b, int64_t c);
int64_t market_muldiv_up(int64_t a, int64_t b, int64_t c);
/* Player fee on a notional, rounded up. */
int64_t market_fee(int64_t notional, int64_t fee_ppm);

/* The price band [lo, hi] (on the tick grid) around ref. */
void market_band(const struct market_params *p, const struct market_instr *ins, int64_t ref,
                 int64_t fair, int64_t *lo, int64_t *hi);
/* The limit a market order trades up to: the band edge on its side. */
int64_t market_worst_price(const struct market_params *p, const struct market_instr *ins,
                           enum market_side side, int64_t ref, int64_t fair);

/* Worst-case cost of qty at limit: spot buys reserve the notional plus fee
 * at the limit, spot sells the BTC; perps the initial margin of the part that
 * opens (valued at the mark = fair) plus the fee on the whole; option buys
 * the premium plus fee, option sells the collateral of the part that writes
 * (BTC for calls, strike * qty in USD for puts).  `position` is the signed
 * holding on the instrument; reduce_only orders open nothing. */
struct market_cost market_order_cost(const struct market_params *p, const struct market_instr *ins,
                                     enum market_side side, int64_t qty, int64_t limit,
                                     bool reduce_only, int32_t leverage, int64_t fair,
                                     int64_t position);

/* Checks every rule of a trade request and records one field error per
 * broken rule (instrument, qty, limit_price, time_in_force, leverage,
 * reduce_only, self-trade, funds).  Returns BT_OK with *cost filled, or
 * BT_ERR with a 400 validation problem in *err. */
int market_order_check(const struct market_order_req *o, const struct market_check *c,
                       struct market_cost *cost, struct bt_err *err);

#endif
