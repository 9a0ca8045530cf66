/*
 * market.h - the market's deterministic core: state, one tick, outputs.
 *
 * A `market` tick phase owns one struct market_state per world.  Each tick
 * it (1) refreshes the wallet views of the accounts involved from the
 * ledger (market_wallet_set), (2) calls market_step() with the tick's
 * environment (fair price and volatility from the world model) and the
 * claimed market intents, (3) posts out->transfers to the ledger, stores
 * out->results on the intents, sends out->alerts, and persists the state.
 * market_step() is pure: no I/O, no clock, no global state; the same state,
 * environment and set of intents (in any order) give the same new state,
 * the same outputs and the same hash.  See docs/ARCHITECTURE.md, "Market
 * model", for the auction, margin, funding, liquidation and options rules.
 *
 * Accounts: ids > 0 are companies.  Ids <= 0 are system ledger accounts the
 * ledger phase maps to its named accounts (MARKET_ACCT_*).  System accounts
 * may go negative (the house); a company's wallet never does.
 *
 * Memory: the state owns its arrays (malloc); outputs live in struct
 * market_out, reused across ticks and freed by market_out_free.
 */
#ifndef BT_MARKET_H
#define BT_MARKET_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include "err.h"
#include "market_instr.h"

struct json_object;

#define MARKET_ACCT_MM        (-1) /* simulated market makers (the house) */
#define MARKET_ACCT_FEES      (-2) /* trading fees and rounding dust */
#define MARKET_ACCT_INSURANCE (-3) /* perp insurance fund */
#define MARKET_ACCT_CLEARING                                                                       \
    (-4) /* central counterparty: margins, collateral, premiums in flight */

__extension__ typedef __int128 market_i128;

/* What the world gives the market for one tick. */
struct market_env {
    int64_t tick;
    int64_t game_s;     /* game time at this tick, seconds since the world began */
    int64_t fair;       /* BTC fair value, micro-USD (the perp mark and the index) */
    int64_t vol_ppm;    /* annualised volatility, ppm (600000 = 60 %) */
    int64_t stress_ppm; /* event stress, 1e6 = calm; 3e6 = spreads x3, depth /3 */
    uint64_t seed;      /* world seed */
};

enum market_order_status { MARKET_LIVE, MARKET_FILLED, MARKET_CANCELLED, MARKET_EXPIRED };

struct market_order {
    int64_t id; /* the intent id: unique, fixed before the tick */
    int64_t account;
    int32_t instr;
    int32_t leverage;
    uint8_t side, type, tif, status;
    bool reduce_only;
    int64_t qty;              /* original, sats */
    int64_t filled;           /* sats */
    int64_t limit;            /* micro-USD; a market order's band edge */
    int64_t tick;             /* accepted at */
    int64_t expire_s;         /* game time it expires */
    int64_t res_usd, res_btc; /* current reservation */
};

/* The market's view of a company's wallet (set from the ledger each tick)
 * and what its live orders reserve.  available = balance - reserved. */
struct market_acct {
    int64_t id;
    int64_t usd, btc;
    int64_t res_usd, res_btc;
};

struct market_pos {
    int64_t account;
    int32_t instr;
    int32_t leverage;   /* perp: of the last opening order */
    int64_t qty;        /* signed sats: long > 0 */
    market_i128 cost;   /* sum of signed qty * price: entry = cost / qty */
    int64_t margin;     /* perp, companies: isolated margin held by CLEARING */
    int64_t collateral; /* option writers: held by CLEARING (sats for calls, micro-USD for puts) */
    int64_t funding;    /* perp: cumulative funding received (+) or paid (-) */
    bool called;        /* margin call sent and not yet cleared */
    /* scratch of the running tick (neither hashed nor saved) */
    int64_t max_buy, min_sell; /* limits of the account's live orders here, 0 = none */
    int64_t budget;            /* closable quantity left while reserving */
};

enum market_intent_kind { MARKET_INTENT_TRADE, MARKET_INTENT_CANCEL };

/* A claimed intent: `market.trade` (req) or `market.cancel` (order_id). */
struct market_intent {
    int64_t id;
    int64_t account;
    enum market_intent_kind kind;
    struct market_order_req req;
    int64_t order_id;
};

/* A rejected intent (every intent not listed here was applied). */
struct market_result {
    int64_t intent_id;
    char field[ERR_FIELD_LEN], code[ERR_CODE_LEN], message[ERR_MSG_LEN]; /* the first problem */
};

struct market_fill {
    int64_t order_id; /* 0 for the market makers and liquidations */
    int64_t account;
    int32_t instr;
    uint8_t side;
    int64_t qty, price;
    int64_t fee;          /* micro-USD */
    int64_t realized_pnl; /* perp, micro-USD */
};

enum market_xfer_kind {
    MARKET_X_TRADE, /* spot principal (USD or BTC) */
    MARKET_X_FEE,
    MARKET_X_MARGIN,     /* perp margin in / out of CLEARING */
    MARKET_X_PNL,        /* perp realised profit or loss of the house accounts */
    MARKET_X_FUNDING,    /* perp funding of the house accounts */
    MARKET_X_PREMIUM,    /* option premium */
    MARKET_X_COLLATERAL, /* option writer collateral in / out */
    MARKET_X_SETTLEMENT, /* option payoff at expiry */
    MARKET_X_INSURANCE,  /* insurance fund covering or receiving a liquidation */
    MARKET_X_DUST,       /* rounding remainders, CLEARING -> FEES */
};

/* One ledger leg.  Legs come in pairs (from -amount, to +amount), so the
 * legs of a tick sum to zero per currency. */
struct market_transfer {
    int64_t account;
    int32_t currency; /* enum market_currency */
    int32_t kind;     /* enum market_xfer_kind */
    int64_t amount;   /* signed: + credits the account */
    int64_t ref;      /* order id, or instrument id */
};

enum market_alert_kind { MARKET_ALERT_MARGIN_CALL, MARKET_ALERT_LIQUIDATED };

struct market_alert {
    int64_t account;
    int32_t instr;
    int32_t kind;
    int64_t qty;         /* position size */
    int64_t equity;      /* micro-USD at the mark */
    int64_t maintenance; /* micro-USD */
    int64_t price;       /* mark; for a liquidation the bankruptcy price */
};

/* An order that left the book this tick. */
struct market_order_done {
    int64_t order_id, account, filled;
    int32_t status;     /* enum market_order_status */
    const char *reason; /* static: filled, cancelled, expired, ioc_remainder, ... */
};

#define MARKET_VEC(T, name)                                                                        \
    T *name;                                                                                       \
    int n_##name, cap_##name

struct market_out {
    MARKET_VEC(struct market_result, results); /* rejections only */
    MARKET_VEC(struct market_fill, fills);
    MARKET_VEC(struct market_transfer, transfers);
    MARKET_VEC(struct market_alert, alerts);
    MARKET_VEC(struct market_order_done, done);
    int64_t funding_rate_ppm; /* applied this tick (perp), or 0 */
    bool funded;
};

struct market_map {
    int64_t *ka; /* key part a */
    int64_t *kb; /* key part b */
    int32_t *idx;
    int cap; /* power of two */
};

struct market_state {
    struct market_params p;
    int64_t tick, game_s; /* of the last step */
    int64_t fair;         /* of the last step */
    int32_t next_instr_id;
    MARKET_VEC(struct market_instr, ins);
    MARKET_VEC(struct market_order, ord); /* live orders, sorted by id */
    MARKET_VEC(struct market_acct, acc);  /* in first-seen order; map by id */
    MARKET_VEC(struct market_pos, pos);   /* map by (account, instr) */
    struct market_map acc_map, pos_map;
    int64_t funding_epoch;   /* game_s / funding_interval of the last funding */
    int64_t premium_sum_ppm; /* premium index samples since then */
    int64_t premium_n;
    int64_t funding_rate_ppm; /* last applied */
    int64_t hour;             /* game hour of the rolling statistics (-1: none yet) */
};

/* A fresh market (spot and perp listed, options listed at the first step). */
void market_init(struct market_state *st, const struct market_params *p);
void market_free(struct market_state *st);
void market_out_free(struct market_out *out);

/* Sets the market's view of a company's wallet from the ledger.  Call for
 * every account with intents this tick and every account with live orders
 * or positions (market_accounts lists them) before market_step. */
void market_wallet_set(struct market_state *st, int64_t account, int64_t usd, int64_t btc);
/* Balance views of any account (system accounts too); NULL when unknown. */
const struct market_acct *market_acct_get(const struct market_state *st, int64_t account);
const struct market_pos *market_pos_get(const struct market_state *st, int64_t account,
                                        int32_t instr);
const struct market_instr *market_instr_get(const struct market_state *st, int32_t id);
const struct market_instr *market_instr_find(const struct market_state *st, const char *name);

/* One tick: listing, cancels, new orders, funds re-check, one batch auction
 * per instrument, expiries, funding, liquidations, option settlement.
 * `in` may be in any order (it is sorted by intent id); it is not modified.
 * Fills *out (cleared first).  Returns BT_ERR only on out-of-memory. */
int market_step(struct market_state *st, const struct market_env *env,
                const struct market_intent *in, int nin, struct market_out *out,
                struct bt_err *err);

/* Reference price of an instrument: fair for spot/perp, Black-Scholes for options. */
int64_t market_ref_price(const struct market_state *st, const struct market_env *env,
                         const struct market_instr *ins);

/* Canonical hash of the whole state (fixed field order, little-endian). */
void market_hash(const struct market_state *st, crypto_generichash_state *h);
/* Decimal text of a 128-bit integer, written at the end of buf (returned). */
#define MARKET_I128_LEN 48
const char *market_i128_str(market_i128 v, char buf[MARKET_I128_LEN]);
/* Full snapshot; caller owns the result. */
struct json_object *market_to_json(const struct market_state *st);
/* Restores a snapshot into a zeroed or freed *st. */
int market_from_json(struct market_state *st, struct json_object *j, struct bt_err *err);

/* ---- market makers (market_book.c) ---- */

struct market_level {
    int64_t price, qty;
};

/* The makers' quotes for one instrument around mid: up to max levels per
 * side, bids descending and asks ascending, on the tick and lot grid. */
void market_mm_quotes(const struct market_params *p, const struct market_instr *ins,
                      const struct market_env *env, int64_t mid, struct market_level *bids,
                      int *nbids, struct market_level *asks, int *nasks, int max);
/* The makers' mid for an instrument (perp skewed against their inventory). */
int64_t market_mm_mid(const struct market_state *st, const struct market_env *env,
                      const struct market_instr *ins);
/* Aggregated depth (makers + resting orders), best first; returns levels per side. */
int market_depth(const struct market_state *st, const struct market_env *env,
                 const struct market_instr *ins, struct market_level *bids, int *nbids,
                 struct market_level *asks, int *nasks, int max);

/* ---- options (market_option.c) ---- */

struct market_bs {
    double price, delta, gamma, vega, theta; /* per unit; vega per 1.00 vol, theta per year */
};

/* Black-Scholes on doubles (S, K in any currency unit, T in years). */
void market_bs_eval(double S, double K, double T, double sigma, double r, bool call,
                    struct market_bs *out);
/* Implied volatility by bisection (fixed iteration count); -1 when none. */
double market_bs_iv(double price, double S, double K, double T, double r, bool call);
/* Platform-stable building blocks (only + - * / sqrt, no libm transcendentals). */
double market_exp(double x);
double market_log(double x);
double market_norm_cdf(double x);

/* Integer quote for display and the makers: micro-USD per BTC of underlying. */
struct market_quote {
    int64_t theo;      /* micro-USD */
    int64_t delta_ppm; /* per BTC of underlying */
    int64_t gamma_ppm; /* change of delta_ppm per 1,000 USD move */
    int64_t vega;      /* micro-USD per volatility point (1 %) */
    int64_t theta;     /* micro-USD per game day */
    int64_t iv_ppm;    /* implied volatility of the last price, 0 = none */
};
void market_option_quote(const struct market_params *p, const struct market_instr *ins,
                         const struct market_env *env, int64_t last_price, struct market_quote *q);

#endif
