/*
 * test_ledger.c - the in-memory ledger: moves and their refusals, the
 * invariants, canonical hashing whatever the insertion order, snapshots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "ledger.h"

static void digest(const struct ledger *l, uint8_t out[32])
{
    crypto_generichash_state h;

    crypto_generichash_init(&h, NULL, 0, 32);
    ledger_hash(l, &h);
    crypto_generichash_final(&h, out, 32);
}

static void with_system(struct ledger *l)
{
    int s, c;

    ledger_init(l, 1);
    for (s = 1; s < LEDGER_NSYS; s++)
        for (c = 0; c < LEDGER_NCUR; c++)
            assert_int_equal(ledger_add(l, s, 0, c, 0, 0), BT_OK);
}

static void grant_then_spend_keeps_every_invariant(void **st)
{
    struct ledger l;
    char why[160];

    (void)st;
    with_system(&l);
    assert_int_equal(ledger_open_company(&l, 7), BT_OK);
    assert_int_equal(ledger_open_company(&l, 7), BT_ERR);
    assert_int_equal(ledger_move(&l, LEDGER_STARTING_GRANT, 0, LEDGER_COMPANY, 7, LEDGER_USD, 1000,
                                 "grant", 1, why, sizeof(why)),
                     BT_OK);
    assert_int_equal(ledger_move(&l, LEDGER_COMPANY, 7, LEDGER_PURCHASES, 0, LEDGER_USD, 400, "buy",
                                 2, why, sizeof(why)),
                     BT_OK);
    assert_int_equal(ledger_balance(&l, 7, LEDGER_USD), 600);
    assert_int_equal(ledger_balance(&l, 7, LEDGER_BTC), 0);
    assert_int_equal(ledger_balance(&l, 8, LEDGER_USD), -1);
    assert_int_equal(l.npend, 2);
    assert_true(ledger_check(&l, why, sizeof(why)));
    ledger_free(&l);
}

/* Accrued moves stay out of the entries and are reported unsettled per key,
 * summed over ticks; another key or kind reports nothing. */
static void accrued_moves_are_unsettled_per_key(void **st)
{
    struct ledger l;
    char why[160];
    int i;

    (void)st;
    with_system(&l);
    assert_int_equal(ledger_unsettled(&l, LEDGER_MINING, 0, LEDGER_COMPANY, 7, LEDGER_BTC, "r"), 0);
    assert_int_equal(ledger_open_company(&l, 7), BT_OK);
    for (i = 1; i <= 3; i++)
        assert_int_equal(ledger_accrue(&l, LEDGER_MINING, 0, LEDGER_COMPANY, 7, LEDGER_BTC, 100 * i,
                                       "r", why, sizeof(why)),
                         BT_OK);
    assert_int_equal(ledger_accrue(&l, LEDGER_COMPANY, 7, LEDGER_ENERGY, 0, LEDGER_BTC, 50, "e",
                                   why, sizeof(why)),
                     BT_OK);
    assert_int_equal(l.npend, 0);
    assert_int_equal(ledger_balance(&l, 7, LEDGER_BTC), 550);
    assert_int_equal(ledger_unsettled(&l, LEDGER_MINING, 0, LEDGER_COMPANY, 7, LEDGER_BTC, "r"),
                     600);
    assert_int_equal(ledger_unsettled(&l, LEDGER_COMPANY, 7, LEDGER_ENERGY, 0, LEDGER_BTC, "e"),
                     50);
    assert_int_equal(ledger_unsettled(&l, LEDGER_MINING, 0, LEDGER_COMPANY, 7, LEDGER_BTC, "x"), 0);
    assert_int_equal(ledger_unsettled(&l, LEDGER_MINING, 0, LEDGER_COMPANY, 8, LEDGER_BTC, "r"), 0);
    assert_int_equal(ledger_unsettled(&l, LEDGER_MINING, 0, LEDGER_COMPANY, 7, LEDGER_USD, "r"), 0);
    assert_true(ledger_check(&l, why, sizeof(why)));
    ledger_free(&l);
}

static void refused_moves_change_nothing(void **st)
{
    struct ledger l;
    char why[160];

    (void)st;
    with_system(&l);
    ledger_open_company(&l, 7);
    ledger_move(&l, LEDGER_STARTING_GRANT, 0, LEDGER_COMPANY, 7, LEDGER_USD, 100, "g", 1, why,
                sizeof(why));
    assert_int_equal(ledger_move(&l, LEDGER_COMPANY, 7, LEDGER_PURCHASES, 0, LEDGER_USD, 101, "b",
                                 2, why, sizeof(why)),
                     BT_ERR);
    assert_non_null(strstr(why, "insufficient funds"));
    assert_int_equal(ledger_move(&l, LEDGER_PURCHASES, 0, LEDGER_COMPANY, 7, LEDGER_USD, 1, "x", 3,
                                 why, sizeof(why)),
                     BT_ERR); /* a sink never pays */
    assert_int_equal(ledger_move(&l, LEDGER_COMPANY, 7, LEDGER_MINING, 0, LEDGER_USD, 1, "x", 4,
                                 why, sizeof(why)),
                     BT_ERR); /* a faucet never receives */
    assert_int_equal(ledger_move(&l, LEDGER_COMPANY, 7, LEDGER_COMPANY, 9, LEDGER_USD, 1, "x", 5,
                                 why, sizeof(why)),
                     BT_ERR); /* no such account */
    assert_int_equal(
        ledger_move(&l, LEDGER_COMPANY, 7, LEDGER_FEES, 0, LEDGER_USD, 0, "x", 6, why, sizeof(why)),
        BT_ERR);
    assert_int_equal(ledger_balance(&l, 7, LEDGER_USD), 100);
    assert_int_equal(l.npend, 1);
    assert_true(ledger_check(&l, why, sizeof(why)));
    ledger_free(&l);
}

static void check_finds_broken_invariants(void **st)
{
    struct ledger l;
    char why[160];

    (void)st;
    with_system(&l);
    ledger_open_company(&l, 3);
    ledger_find(&l, LEDGER_COMPANY, 3, LEDGER_USD)->balance = 5; /* created from nothing */
    assert_false(ledger_check(&l, why, sizeof(why)));
    assert_non_null(strstr(why, "sum"));
    ledger_find(&l, LEDGER_COMPANY, 3, LEDGER_USD)->balance = -5;
    ledger_find(&l, LEDGER_FEES, 0, LEDGER_USD)->balance = 5;
    assert_false(ledger_check(&l, why, sizeof(why)));
    assert_non_null(strstr(why, "company"));
    ledger_free(&l);
}

static void hash_is_canonical_and_snapshot_round_trips(void **st)
{
    struct ledger a, b, c;
    struct json_object *j;
    struct bt_err err;
    uint8_t ha[32], hb[32], hc[32];
    char why[160];

    (void)st;
    with_system(&a);
    ledger_init(&b, 1);
    ledger_open_company(&a, 5);
    ledger_open_company(&a, 2);
    /* b: the same accounts, added in another order */
    ledger_add(&b, LEDGER_COMPANY, 2, LEDGER_BTC, 0, 0);
    ledger_add(&b, LEDGER_COMPANY, 5, LEDGER_USD, 0, 0);
    for (int s = LEDGER_NSYS - 1; s >= 1; s--)
        for (int cu = 0; cu < LEDGER_NCUR; cu++)
            ledger_add(&b, s, 0, cu, 0, 0);
    ledger_add(&b, LEDGER_COMPANY, 2, LEDGER_USD, 0, 0);
    ledger_add(&b, LEDGER_COMPANY, 5, LEDGER_BTC, 0, 0);
    digest(&a, ha);
    digest(&b, hb);
    assert_memory_equal(ha, hb, 32);
    ledger_move(&a, LEDGER_MINING, 0, LEDGER_COMPANY, 5, LEDGER_BTC, 77, "m", 0, why, sizeof(why));
    digest(&a, ha);
    assert_memory_not_equal(ha, hb, 32);
    j = ledger_to_json(&a);
    ledger_init(&c, 1);
    err_clear(&err);
    assert_int_equal(ledger_from_json(&c, j, &err), BT_OK);
    digest(&c, hc);
    assert_memory_equal(ha, hc, 32);
    json_object_put(j);
    ledger_free(&a);
    ledger_free(&b);
    ledger_free(&c);
}

/* The market's house accounts (makers, clearing, insurance) may pay what
 * they do not have; its fee account is a sink; companies still never go
 * negative. */
static void market_house_accounts_may_go_negative(void **st)
{
    struct ledger l;
    char why[160];

    (void)st;
    with_system(&l);
    assert_int_equal(ledger_open_company(&l, 7), BT_OK);
    assert_true(ledger_is_house(LEDGER_MARKET_MM) && ledger_is_house(LEDGER_MARKET_CLEARING) &&
                ledger_is_house(LEDGER_MARKET_INSURANCE));
    assert_true(ledger_is_sink(LEDGER_MARKET_FEES) && !ledger_is_house(LEDGER_MARKET_FEES));
    assert_int_equal(ledger_move(&l, LEDGER_MARKET_MM, 0, LEDGER_MARKET_CLEARING, 0, LEDGER_BTC,
                                 500, "market.trade", 0, why, sizeof(why)),
                     BT_OK);
    assert_int_equal(ledger_move(&l, LEDGER_MARKET_CLEARING, 0, LEDGER_COMPANY, 7, LEDGER_BTC, 500,
                                 "market.trade", 0, why, sizeof(why)),
                     BT_OK);
    assert_int_equal(ledger_find(&l, LEDGER_MARKET_MM, 0, LEDGER_BTC)->balance, -500);
    assert_true(ledger_check(&l, why, sizeof(why)));
    assert_string_equal(ledger_sys_name(LEDGER_MARKET_INSURANCE), "market_insurance");
    /* The fee sink never pays; a company cannot pay more than it holds. */
    assert_int_equal(ledger_move(&l, LEDGER_COMPANY, 7, LEDGER_MARKET_FEES, 0, LEDGER_BTC, 100,
                                 "market.fee", 0, why, sizeof(why)),
                     BT_OK);
    assert_int_equal(ledger_move(&l, LEDGER_MARKET_FEES, 0, LEDGER_COMPANY, 7, LEDGER_BTC, 1, "x",
                                 0, why, sizeof(why)),
                     BT_ERR);
    assert_int_equal(ledger_move(&l, LEDGER_COMPANY, 7, LEDGER_MARKET_CLEARING, 0, LEDGER_BTC, 401,
                                 "x", 0, why, sizeof(why)),
                     BT_ERR);
    ledger_free(&l);
}

/* Accounts are found by company id whatever the ids' spread (the search
 * guesses a position from the id: tickd/ledger.c search()): dense runs,
 * clusters far apart and lone outliers, inserted in a scrambled order,
 * then every present key found with its own balance and absent ones not. */
static void accounts_are_found_whatever_the_id_spread(void **st)
{
    struct ledger l;
    int64_t ids[1300];
    int n = 0;

    (void)st;
    with_system(&l);
    for (int i = 1; i <= 600; i++)
        ids[n++] = i;
    for (int i = 0; i < 600; i++)
        ids[n++] = 1000000 + 3 * i;
    ids[n++] = 999;
    ids[n++] = 50000;
    ids[n++] = 1000000000000LL;
    for (int i = 0; i < n; i++) { /* a fixed scramble: i -> i * 7919 mod n */
        int64_t id = ids[(int)(((int64_t)i * 7919) % n)];
        assert_int_equal(ledger_open_company(&l, id), BT_OK);
        assert_non_null(ledger_find(&l, LEDGER_COMPANY, id, LEDGER_BTC));
    }
    for (int i = 0; i < n; i++) {
        struct ledger_account *a = ledger_find(&l, LEDGER_COMPANY, ids[i], LEDGER_USD);
        assert_non_null(a);
        a->balance = ids[i] % 1000 + 1;
    }
    for (int i = 0; i < n; i++) {
        const struct ledger_account *u = ledger_find(&l, LEDGER_COMPANY, ids[i], LEDGER_USD);
        const struct ledger_account *b = ledger_find(&l, LEDGER_COMPANY, ids[i], LEDGER_BTC);
        assert_non_null(u);
        assert_non_null(b);
        assert_true(u->company == ids[i] && u->cur == LEDGER_USD && b->company == ids[i] &&
                    b->cur == LEDGER_BTC);
        assert_int_equal(ledger_balance(&l, ids[i], LEDGER_USD), ids[i] % 1000 + 1);
    }
    assert_null(ledger_find(&l, LEDGER_COMPANY, 601, LEDGER_USD));
    assert_null(ledger_find(&l, LEDGER_COMPANY, 1000001, LEDGER_USD));
    assert_null(ledger_find(&l, LEDGER_COMPANY, 999999999999LL, LEDGER_BTC));
    assert_null(ledger_find(&l, LEDGER_COMPANY, 1000000000001LL, LEDGER_USD));
    assert_int_equal(ledger_open_company(&l, 999), BT_ERR); /* already there */
    assert_non_null(ledger_find(&l, LEDGER_MINING, 0, LEDGER_BTC));
    ledger_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grant_then_spend_keeps_every_invariant),
        cmocka_unit_test(accrued_moves_are_unsettled_per_key),
        cmocka_unit_test(refused_moves_change_nothing),
        cmocka_unit_test(check_finds_broken_invariants),
        cmocka_unit_test(hash_is_canonical_and_snapshot_round_trips),
        cmocka_unit_test(market_house_accounts_may_go_negative),
        cmocka_unit_test(accounts_are_found_whatever_the_id_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
