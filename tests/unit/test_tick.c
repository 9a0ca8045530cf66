/*
 * test_tick.c - the engine without a database: intents applied in their
 * fixed order through the kind registry (first come first served on money),
 * rejections leave the state alone, unknown kinds are rejected, the state
 * hash is canonical (field boundaries, snapshot round trip).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "intents.h"
#include "ledger.h"
#include "market.h"
#include "mining.h"
#include "sites.h"
#include "tick.h"
#include "world.h"

#define SNAP                                                                                       \
    "{\"tick\": 10, \"ledger\": [[\"starting_grant\", 0, \"usd\", -1000], "                        \
    "[\"purchases\", 0, \"usd\", 0], [\"company\", 4, \"usd\", 1000], "                            \
    "[\"company\", 4, \"btc\", 0]], \"sites\": {\"costs\": [[\"region\", \"texas\", 300], "        \
    "[\"grid_tier\", \"1\", 100], [\"cooling_type\", \"air\", 200]], \"sites\": []}}"

static const char *SITE_ARGS =
    "{\"region\": \"texas\", \"grid_tier\": 1, \"cooling_type\": \"air\", \"name\": \"A\"}";

struct fixture {
    struct world w;
    struct arena a;
    struct tick_ctx ctx;
    struct tick_intent in[4];
};

static void setup(struct fixture *f)
{
    struct json_object *j = json_tokener_parse(SNAP);
    struct world_model wm;
    struct bt_err err;

    /* The world phase's part of the snapshot: a fresh model at tick 10. */
    world_model_init(&wm, 1, 42, 10);
    json_object_object_add(j, "world", world_model_to_json(&wm));
    /* The mining phase's: the default catalog, no rigs. */
    {
        struct mining_catalog cat;
        struct mining_state ms;
        struct json_object *mj = json_object_new_object();
        err_clear(&err);
        mining_catalog_default(&cat);
        assert_int_equal(mining_init(&ms, &cat, &err), BT_OK);
        json_object_object_add(mj, "catalog", mining_catalog_to_json(&cat));
        json_object_object_add(mj, "state", mining_to_json(&ms));
        mining_free(&ms);
        json_object_object_add(j, "mining", mj);
    }
    /* The market phase's: a fresh market with the default parameters. */
    {
        struct market_params mp;
        struct market_state mk;
        market_params_default(&mp);
        market_init(&mk, &mp);
        json_object_object_add(j, "market", market_to_json(&mk));
        market_free(&mk);
    }
    memset(f, 0, sizeof(*f));
    arena_init(&f->a, 0);
    f->w.id = 1;
    f->ctx.world = &f->w;
    f->ctx.arena = &f->a;
    f->ctx.replay = true; /* no logging */
    err_clear(&err);
    assert_int_equal(tick_world_from_json(&f->ctx, j, &err), BT_OK);
    json_object_put(j);
    f->ctx.tick = 11;
    f->w.tick = 11;
}

static void teardown(struct fixture *f)
{
    tick_world_free(&f->w);
    arena_free(&f->a);
}

static void intent(struct tick_intent *in, int64_t id, const char *kind, const char *args)
{
    memset(in, 0, sizeof(*in));
    in->id = id;
    in->company_id = 4;
    in->kind = kind;
    in->args_text = args;
}

static void first_in_order_gets_the_money(void **st)
{
    struct fixture f;
    struct ledger *l;
    struct sites *s;

    (void)st;
    setup(&f);
    intent(&f.in[0], 20, "site.create", SITE_ARGS);
    intent(&f.in[1], 21, "site.create", SITE_ARGS);
    intent(&f.in[2], 22, "no.such", "{}");
    intent(&f.in[3], 23, "site.create", "{\"region\": \"mars\"}");
    f.ctx.intents = f.in;
    f.ctx.nintents = 4;
    intents_apply_all(&f.ctx);
    assert_int_equal(f.in[0].status, INTENT_APPLIED);
    assert_int_equal(f.in[1].status, INTENT_REJECTED);
    assert_non_null(strstr(f.in[1].reason, "insufficient funds"));
    assert_int_equal(f.in[2].status, INTENT_REJECTED);
    assert_string_equal(f.in[2].reason, "unknown intent kind");
    assert_int_equal(f.in[3].status, INTENT_REJECTED);
    assert_non_null(strstr(f.in[3].reason, "invalid"));
    l = tick_state(&f.ctx, &tick_phase_ledger);
    s = tick_state(&f.ctx, &tick_phase_sites);
    assert_int_equal(ledger_balance(l, 4, LEDGER_USD), 400);
    assert_int_equal(sites_count(s, 4), 1);
    assert_non_null(sites_find(s, 4, 20));
    sites_settle(s);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->v[0].id, 20);
    assert_int_equal(s->v[0].created_tick, 11);
    assert_int_equal(sites_count(s, 4), 1);
    teardown(&f);
}

static void state_hash_survives_a_snapshot_round_trip(void **st)
{
    struct fixture f, g;
    struct json_object *j;
    struct bt_err err;
    uint8_t a[TICK_HASH_BYTES], b[TICK_HASH_BYTES];

    (void)st;
    setup(&f);
    intent(&f.in[0], 30, "site.create", SITE_ARGS);
    f.ctx.intents = f.in;
    f.ctx.nintents = 1;
    intents_apply_all(&f.ctx);
    tick_world_hash(&f.w, a);
    j = tick_world_to_json(&f.w);
    setup(&g);
    err_clear(&err);
    assert_int_equal(tick_world_from_json(&g.ctx, j, &err), BT_OK);
    tick_world_hash(&g.w, b);
    assert_memory_equal(a, b, TICK_HASH_BYTES);
    /* and the hash covers the tick itself */
    g.w.tick++;
    tick_world_hash(&g.w, b);
    assert_memory_not_equal(a, b, TICK_HASH_BYTES);
    json_object_put(j);
    teardown(&f);
    teardown(&g);
}

static void hash_strings_are_length_prefixed(void **st)
{
    crypto_generichash_state h;
    uint8_t a[32], b[32];

    (void)st;
    crypto_generichash_init(&h, NULL, 0, 32);
    tick_hash_str(&h, "ab");
    tick_hash_str(&h, "c");
    crypto_generichash_final(&h, a, 32);
    crypto_generichash_init(&h, NULL, 0, 32);
    tick_hash_str(&h, "a");
    tick_hash_str(&h, "bc");
    crypto_generichash_final(&h, b, 32);
    assert_memory_not_equal(a, b, 32);
}

static void alerts_are_kept_for_publishing_but_not_in_a_replay(void **st)
{
    struct fixture f;
    struct json_object *d = json_object_new_object();

    (void)st;
    setup(&f);
    f.ctx.replay = false;
    json_object_object_add(d, "site_id", json_object_new_int64(7));
    tick_alert(&f.ctx, 4, "rig_failure", "warning", d);
    tick_alert(&f.ctx, 5, "outage", "info", NULL);
    assert_int_equal(f.ctx.nalerts, 2);
    assert_string_equal(f.ctx.alerts[0].code, "rig_failure");
    assert_ptr_equal(f.ctx.alerts[0].detail, d);
    assert_int_equal(f.ctx.alerts[1].company_id, 5);
    /* both companies get a player:update too */
    assert_int_equal(f.ctx.ntouched, 2);
    f.ctx.replay = true;
    tick_alert(&f.ctx, 4, "rig_failure", "warning", json_object_new_object());
    assert_int_equal(f.ctx.nalerts, 2);
    teardown(&f); /* the arena releases every detail (ASan/LSan check) */
}

static void registries_know_the_kinds(void **st)
{
    (void)st;
    assert_non_null(tick_intent_kind("company.open"));
    assert_non_null(tick_intent_kind("site.create"));
    assert_null(tick_intent_kind("site"));
    assert_true(tick_nphases <= TICK_MAX_PHASES);
}

/* Sites are found and counted per company whatever the spread of company
 * ids (the search starts from a window guessed from the id): dense runs,
 * a cluster far away and an outlier, plus ids that are absent. */
static void sites_are_found_whatever_the_company_spread(void **st)
{
    static struct site v[1000];
    struct sites s;
    size_t n = 0;

    (void)st;
    memset(&s, 0, sizeof(s));
    for (int64_t c = 1; c <= 300; c++) /* two sites each */
        for (int k = 0; k < 2; k++)
            v[n++] = (struct site){.id = c * 10 + k, .company_id = c};
    for (int64_t i = 0; i < 200; i++) /* one site each, ids 7 apart */
        v[n++] = (struct site){.id = 5000 + i, .company_id = 1000000 + 7 * i};
    for (int k = 0; k < 3; k++)
        v[n++] = (struct site){.id = 9000 + k, .company_id = 1000000000000LL};
    s.v = v;
    s.n = n;
    for (size_t i = 0; i < n; i++) {
        const struct site *f = sites_find(&s, v[i].company_id, v[i].id);
        assert_ptr_equal(f, &v[i]);
        assert_int_equal(sites_count(&s, v[i].company_id), v[i].company_id <= 300              ? 2
                                                           : v[i].company_id < 1000000000000LL ? 1
                                                                                               : 3);
    }
    assert_int_equal(sites_count(&s, 0), 0);
    assert_int_equal(sites_count(&s, 301), 0);
    assert_int_equal(sites_count(&s, 1000001), 0);
    assert_int_equal(sites_count(&s, 1000000000001LL), 0);
    assert_null(sites_find(&s, 1, 12)); /* another company's site */
    assert_null(sites_find(&s, 1000007, 5000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_in_order_gets_the_money),
        cmocka_unit_test(state_hash_survives_a_snapshot_round_trip),
        cmocka_unit_test(hash_strings_are_length_prefixed),
        cmocka_unit_test(alerts_are_kept_for_publishing_but_not_in_a_replay),
        cmocka_unit_test(registries_know_the_kinds),
        cmocka_unit_test(sites_are_found_whatever_the_company_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
