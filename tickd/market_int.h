/*
 * market_int.h - helpers shared by the tickd/market_*.c files only.
 *
 * The running tick's context (struct market_tick), account and position
 * lookup, ledger legs and growable vectors.  Nothing outside the market
 * module includes this header.
 */
#ifndef BT_MARKET_INT_H
#define BT_MARKET_INT_H

#include "market.h"

typedef market_i128 i128;

/* The tick being computed.  Out-of-memory is sticky: the step finishes its
 * loop and returns BT_ERR, and the caller reloads the state. */
struct market_tick {
    struct market_state *st;
    const struct market_env *env;
    struct market_out *out;
    bool oom;
    /* Live orders by instrument (indices into st->ord), built once the book
     * stops growing: orders of st->ins[k] are idx[start[k] .. start[k+1]). */
    int32_t *idx;
    int *start;
};

/* Grows *v to hold need elements of size sz; BT_ERR on out-of-memory. */
int market_grow(void **v, int *cap, int need, size_t sz);

#define MARKET_PUSH(x, owner, name)                                                                \
    (market_grow((void **)&(owner)->name, &(owner)->cap_##name, (owner)->n_##name + 1,             \
                 sizeof(*(owner)->name)) == BT_OK                                                  \
         ? &(owner)->name[(owner)->n_##name++]                                                     \
         : market_oom(x, sizeof(*(owner)->name)))

/* Marks the tick out of memory and returns zeroed scratch of sz bytes. */
void *market_oom(struct market_tick *x, size_t sz);

bool market_is_house(int64_t account);
struct market_acct *market_acct_at(struct market_tick *x, int64_t account);
struct market_pos *market_pos_at(struct market_tick *x, int64_t account, int32_t instr);
struct market_instr *market_instr_mut(struct market_state *st, int32_t id);

/* Moves amount (>= 0) of currency from one account to another: two legs. */
void market_xfer(struct market_tick *x, int64_t from, int64_t to, enum market_currency cur,
                 int64_t amount, enum market_xfer_kind kind, int64_t ref);

/* Floor division by a positive divisor (rounds toward minus infinity). */
int64_t market_floor_div(i128 a, int64_t b);

/* Takes an order off the book and records why. */
void market_order_end(struct market_tick *x, struct market_order *o, enum market_order_status s,
                      const char *reason);
/* Index of an instrument in st->ins, -1 if absent. */
int market_instr_index(const struct market_state *st, int32_t id);

/* ---- market_risk.c ---- */
/* Applies a fill of qty (> 0) at price to the account's position on a perp
 * or option, moving margin or collateral; returns the realised perp PnL. */
int64_t market_pos_fill(struct market_tick *x, int64_t account, const struct market_instr *ins,
                        enum market_side side, int64_t qty, int64_t price, int32_t leverage,
                        int64_t ref);
/* Recomputes every live order's reservation in id order and cancels those
 * the wallet no longer covers (or reduce-only orders with nothing to reduce). */
void market_reserve(struct market_tick *x, bool cancel_uncovered);
/* Funding at the 8-hour boundaries, then margin calls and liquidations. */
void market_funding(struct market_tick *x);
void market_liquidate(struct market_tick *x);
/* Equity and maintenance of a perp position at the mark. */
void market_perp_health(const struct market_state *st, const struct market_pos *pos, int64_t mark,
                        int64_t *equity, int64_t *maintenance);

/* ---- market_auction.c ---- */
/* The auction of instrument st->ins[k]. */
void market_auction(struct market_tick *x, int k);

/* ---- market_book.c ---- */
/* Best bid and ask (0 = none) of makers plus resting orders of st->ins[k]. */
void market_best(struct market_tick *x, int k, int64_t *bid, int64_t *ask);

/* ---- market_option.c ---- */
void market_options_settle(struct market_tick *x);
void market_options_list(struct market_tick *x);

#endif
