/*
 * ledger.h - the double-entry ledger in tickd's memory, and its phase.
 *
 * Every money movement of the game is ledger_move(): an amount leaves one
 * account and enters another in the same currency (USD in micro-dollars,
 * BTC in satoshis), with a kind and the intent that caused it.  Accounts
 * belong to a company, or are system accounts: faucets (starting grant,
 * admin grant, mining) are the only sources of new money, sinks (energy,
 * purchases, fees) the only places it disappears, the insurance fund is a
 * pool.  A company balance can never go negative: the move is refused.
 *
 * The phase loads the world's accounts, persists this tick's new accounts
 * and entries (the database applies the entries to its balances and its
 * CHECKs refuse any negative company balance), and hashes every balance.
 *
 * Accrued moves (ledger_accrue): postings that recur every tick for every
 * company (mining energy, rewards, credit) change the balances in memory
 * at once, like any move, but reach ledger_entries aggregated: per company
 * every LEDGER_SETTLE_EVERY ticks (its turn, staggered by company id) and
 * at once in any tick where another entry debits an account of the company
 * into which an unsettled amount was credited.  So the database balance of
 * an account is never below its true balance when a debit meets it (never
 * below zero): it is the true balance plus the unsettled debits minus the
 * unsettled credits.  The accruing phase writes what is unsettled after
 * each tick (ledger_unsettled) in the tick's transaction (mining_due,
 * 0022): company_balances() in SQL adds them, and
 * the phase gives them back at load (ledger_restore_accrued).
 */
#ifndef BT_LEDGER_H
#define BT_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "tick.h"

enum ledger_cur { LEDGER_USD = 0, LEDGER_BTC = 1, LEDGER_NCUR };

enum ledger_sys {
    LEDGER_COMPANY = 0,
    LEDGER_STARTING_GRANT, /* faucet */
    LEDGER_ADMIN_GRANT,    /* faucet */
    LEDGER_MINING,         /* faucet */
    LEDGER_ENERGY,         /* sink */
    LEDGER_PURCHASES,      /* sink */
    LEDGER_FEES,           /* sink */
    LEDGER_INSURANCE,      /* pool */
    /* The market's accounts (tickd/market_phase.c).  "House" accounts may
     * hold either sign: the simulated makers are the counterparty of last
     * resort, the clearing house holds margins and collateral in flight and
     * the insurance fund absorbs liquidation losses. */
    LEDGER_MARKET_MM,        /* house */
    LEDGER_MARKET_FEES,      /* sink */
    LEDGER_MARKET_INSURANCE, /* house */
    LEDGER_MARKET_CLEARING,  /* house */
    LEDGER_NSYS
};

struct ledger_account {
    int sys;         /* enum ledger_sys */
    int64_t company; /* 0 for system accounts */
    int cur;         /* enum ledger_cur */
    int64_t balance;
    int64_t db_id; /* 0 until persisted */
};

#define LEDGER_SETTLE_EVERY 100 /* ticks between settlements of a company's accruals */

struct ledger_entry {
    int from_sys, to_sys, cur;
    int64_t from_company, to_company, amount, intent_id;
    const char *kind; /* static string */
};

/* Accrued amount of one (from, to, currency, kind), not yet in the entries. */
struct ledger_accrued {
    struct ledger_entry e; /* e.amount: the sum so far; e.intent_id 0 */
    bool used;
    bool settling; /* settled by the persist in progress */
};

struct ledger {
    int64_t world_id;
    struct ledger_account *acc; /* sorted by (sys, company, cur) */
    size_t n, cap;
    size_t ncomp;              /* company accounts: acc[0 .. ncomp) (LEDGER_COMPANY is 0) */
    struct ledger_entry *pend; /* this tick's entries, in order */
    size_t npend, pcap;
    struct ledger_accrued *accr; /* open addressing by key; cap a power of two */
    size_t naccr, accr_cap;
    int64_t *settled; /* accr slots settled by the persist in progress */
    size_t nsettled, settled_cap;
};

extern const struct tick_phase tick_phase_ledger;
extern const struct intent_kind intent_company_open;

void ledger_init(struct ledger *l, int64_t world_id);
void ledger_free(struct ledger *l);

const char *ledger_sys_name(int sys);
const char *ledger_cur_name(int cur);
bool ledger_is_faucet(int sys);
bool ledger_is_sink(int sys);
/* House accounts may hold either sign (the market's makers, clearing and
 * insurance fund). */
bool ledger_is_house(int sys);

/* Borrowed; valid until the next account is added. NULL when absent. */
struct ledger_account *ledger_find(const struct ledger *l, int sys, int64_t company, int cur);

/* Adds an account (BT_ERR if it exists or memory runs out). */
int ledger_add(struct ledger *l, int sys, int64_t company, int cur, int64_t balance, int64_t db_id);

/* Opens both accounts of a company (BT_ERR if already open). */
int ledger_open_company(struct ledger *l, int64_t company);

/* Balance of a company in cur, or -1 if the company has no account. */
int64_t ledger_balance(const struct ledger *l, int64_t company, int cur);

/* Moves amount (> 0) from one account to another and records the entry.
 * Refused (BT_ERR, state untouched, why filled) when an account is missing,
 * the source is a company (or pool) without enough money, a sink would pay, a faucet
 * would receive, or a balance would overflow. */
int ledger_move(struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                int64_t to_company, int cur, int64_t amount, const char *kind, int64_t intent_id,
                char *why, size_t why_len);

/* Like ledger_move, for a posting of a company that recurs every tick and
 * that the caller also records per tick (see the comment atop this file).
 * Exactly one side must be a company. */
int ledger_accrue(struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                  int64_t to_company, int cur, int64_t amount, const char *kind, char *why,
                  size_t why_len);

/* At load: an accrued amount that is committed (by the accruing phase) but
 * not yet in the entries; applies it to the loaded balances and accrues it. */
int ledger_restore_accrued(struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                           int64_t to_company, int cur, int64_t amount, const char *kind);

/* The amount accrued under a key (as given to ledger_accrue) that is not
 * in the entries once the persist in progress has settled what it settles;
 * 0 for an unknown key. */
int64_t ledger_unsettled(const struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                         int64_t to_company, int cur, const char *kind);

/* The invariants of the in-memory ledger: per currency the balances sum to
 * zero, companies >= 0, faucets <= 0, sinks and pools >= 0, house accounts
 * either sign. */
bool ledger_check(const struct ledger *l, char *why, size_t why_len);

/* The same invariants checked in PostgreSQL for a world, plus: every
 * balance equals the sum of its entries, no entry pays out of a sink or
 * into a faucet.  BT_ERR with err->detail naming the first violation. */
int ledger_verify_db(struct db *db, struct arena *a, int64_t world_id, struct bt_err *err);

void ledger_hash(const struct ledger *l, crypto_generichash_state *h);
struct json_object *ledger_to_json(const struct ledger *l);
int ledger_from_json(struct ledger *l, struct json_object *j, struct bt_err *err);

#endif
