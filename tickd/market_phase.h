/*
 * market_phase.h - the market model (tickd/market.h) as a tick phase,
 * registered in phases.c after mining, and the intent kinds market.trade
 * and market.cancel.
 */
#ifndef BT_MARKET_PHASE_H
#define BT_MARKET_PHASE_H

#include "market.h"
#include "tick.h"

extern const struct tick_phase tick_phase_market;
extern const struct intent_kind intent_market_trade;
extern const struct intent_kind intent_market_cancel;

/* The ledger account of a market account id (MARKET_ACCT_* or a company). */
void market_ledger_account(int64_t account, int *sys, int64_t *company);

/* The market's environment from the world model: fair value, annualised
 * volatility (sqrt of the price model's variance) and event stress. */
struct world_model;
void market_env_of(const struct world_model *wm, int64_t tick, uint64_t seed,
                   struct market_env *env);

#endif
