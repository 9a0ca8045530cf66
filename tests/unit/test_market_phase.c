/*
 * test_market_phase.c - the pure parts of the market phase: the market's
 * environment from the world model (fair value, volatility from the
 * variance, event stress) and the ledger account of each market account.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../tickd/ledger.h"
#include "../../tickd/market_phase.h"
#include "../../tickd/world.h"

static void env_comes_from_the_world_model(void **st)
{
    struct world_model wm;
    struct market_env e;

    (void)st;
    memset(&wm, 0, sizeof(wm));
    wm.price_uusd = 65000000000;
    wm.game_time_s = 1735700000;
    wm.price_var_e9 = 360000000; /* variance 0.36 -> volatility 60 % */
    market_env_of(&wm, 12, 99, &e);
    assert_int_equal(e.fair, 65000000000);
    assert_int_equal(e.vol_ppm, 600000);
    assert_int_equal(e.stress_ppm, 1000000); /* calm: no events */
    assert_int_equal(e.game_s, 1735700000);
    assert_int_equal(e.tick, 12);
    assert_int_equal(e.seed, 99);
    /* Active events widen spreads by 10 % per severity point, at most x3. */
    wm.nevents = 2;
    wm.events[0].severity = 3;
    wm.events[1].severity = 2;
    market_env_of(&wm, 12, 99, &e);
    assert_int_equal(e.stress_ppm, 1500000);
    wm.events[0].severity = 5;
    wm.events[1].severity = 5;
    wm.nevents = 3;
    wm.events[2].severity = 5;
    market_env_of(&wm, 12, 99, &e);
    assert_int_equal(e.stress_ppm, 2500000);
    wm.nevents = 5;
    wm.events[3].severity = 5;
    wm.events[4].severity = 5;
    market_env_of(&wm, 12, 99, &e);
    assert_int_equal(e.stress_ppm, 3000000);
    /* A variance that is not a perfect square rounds the volatility down. */
    wm.price_var_e9 = 250000001;
    market_env_of(&wm, 12, 99, &e);
    assert_int_equal(e.vol_ppm, 500000);
}

static void market_accounts_map_to_ledger_accounts(void **st)
{
    static const struct {
        int64_t account;
        int sys;
        int64_t company;
    } want[] = {
        {MARKET_ACCT_MM, LEDGER_MARKET_MM, 0},
        {MARKET_ACCT_FEES, LEDGER_MARKET_FEES, 0},
        {MARKET_ACCT_INSURANCE, LEDGER_MARKET_INSURANCE, 0},
        {MARKET_ACCT_CLEARING, LEDGER_MARKET_CLEARING, 0},
        {17, LEDGER_COMPANY, 17},
    };

    (void)st;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int sys = -1;
        int64_t company = -1;
        market_ledger_account(want[i].account, &sys, &company);
        assert_int_equal(sys, want[i].sys);
        assert_int_equal(company, want[i].company);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(env_comes_from_the_world_model),
        cmocka_unit_test(market_accounts_map_to_ledger_accounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
