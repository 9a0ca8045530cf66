/*
 * test_mining.c - the mining and energy model: yield against hand-computed
 * values, rounding that never creates money, energy cost per contract kind,
 * demand-response curtailment and credit, outages, wear, failure rates,
 * throttling on insufficient cash, determinism, snapshots and validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tickd/mining.h"

#define S21   6 /* index of "s21" in the default catalog */
#define TEXAS MINING_TEXAS

static struct mining_catalog cat_no_failures(void)
{
    struct mining_catalog c;

    mining_catalog_default(&c);
    for (int i = 0; i < c.nmodels; i++)
        c.models[i].afr_ppm = 0;
    return c;
}

static struct mining_env env_default(int64_t tick)
{
    struct mining_env e;

    memset(&e, 0, sizeof(e));
    e.seed = 42;
    e.tick = tick;
    e.tick_secs = 600;
    e.net_hash_ghs = 700000000000LL; /* 700 EH/s */
    e.blocks_milli = 1000;
    e.reward_sats = 322500000; /* 3.125 BTC subsidy + 0.1 BTC fees */
    for (int r = 0; r < MINING_NREGIONS; r++) {
        e.spot_uusd_kwh[r] = 40000; /* USD 0.04 */
        e.heat_ppm[r] = MINING_PPM;
    }
    return e;
}

static void add_company(struct mining_state *s, int64_t id)
{
    struct bt_err err;

    assert_true(mining_company_add(s, id, 0, &err) >= 0);
}

static int add_site(struct mining_state *s, int64_t id, int64_t company, int region, int tier,
                    int cooling)
{
    struct mining_site st = {.id = id, .company_id = company};
    struct bt_err err;
    int i;

    st.region = (uint8_t)region;
    st.tier = (uint8_t)tier;
    st.cooling = (uint8_t)cooling;
    i = mining_site_add(s, &st, &err);
    assert_true(i >= 0);
    return i;
}

static int add_group(struct mining_state *s, int64_t id, int64_t site, int model, int fw,
                     int32_t count)
{
    struct mining_group g = {.id = id, .site_id = site, .count = count, .windex0 = -1};
    struct bt_err err;
    int i;

    g.model = (uint16_t)model;
    g.firmware = (uint8_t)fw;
    i = mining_group_add(s, &g, &err);
    assert_true(i >= 0);
    return i;
}

static void step(struct mining_state *s, const struct mining_env *e, const int64_t *cash)
{
    struct bt_err err;

    err_clear(&err);
    assert_int_equal(mining_step(s, e, cash, 1, &err), BT_OK);
}

/* One company, one tier-3 air site in Texas, 10 Antminer S21 at stock. */
static void one_site(struct mining_state *s, const struct mining_catalog *c)
{
    struct bt_err err;

    assert_int_equal(mining_init(s, c, &err), BT_OK);
    assert_string_equal(c->models[S21].id, "s21");
    add_company(s, 1);
    add_site(s, 10, 1, TEXAS, 3, MINING_AIR);
    add_group(s, 100, 10, S21, MINING_STOCK, 10);
}

static void yield_matches_hand_computed_value(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct mining_env e = env_default(1);

    (void)state;
    one_site(&s, &c);
    step(&s, &e, NULL);
    /* 10 x 200 TH/s = 2,000,000 GH/s; 2e6 / 7e11 x 322,500,000 sat = 921.428571428... */
    assert_int_equal(s.company_res[0].hash_ghs, 2000000);
    assert_int_equal(s.company_res[0].sats, 921);
    assert_int_equal(s.site_res[0].sats, 921);
    assert_int_equal(s.companies[0].rem_nsat, 428571428);
    /* The remainder carries: two ticks pay floor(1842.857...) = 1842. */
    e.tick = 2;
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].sats, 921);
    assert_int_equal(s.companies[0].rem_nsat, 857142856);
    e.tick = 3;
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].sats, 922); /* 2764.28 after three ticks */
    /* Two blocks in a tick double the yield. */
    e.tick = 4;
    e.blocks_milli = 2000;
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].sats, 1843);
    mining_free(&s);
}

static void spot_energy_cost_matches_hand_computed_value(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct mining_env e = env_default(1);

    (void)state;
    one_site(&s, &c);
    step(&s, &e, NULL);
    /* 35,000 W x PUE 1.15 = 40,250 W for 600 s = 6,708.33 Wh; x USD 0.04/kWh
     * = 268,333.33 micro-USD, rounded up against the player. */
    assert_int_equal(s.company_res[0].energy_wh, 6708);
    assert_int_equal(s.company_res[0].cost_uusd, 268334);
    assert_int_equal(s.site_res[0].cost_uusd, 268334);
    assert_int_equal(s.company_res[0].throttle_ppm, MINING_PPM);
    assert_int_equal(s.company_res[0].uptime_ppm, MINING_PPM);
    /* A heat wave raises the cooling overhead: PUE 1 + 0.15 x 2 = 1.30. */
    e.tick = 2;
    e.heat_ppm[TEXAS] = 2 * MINING_PPM;
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].energy_wh, 7583); /* 45,500 W x 600 s */
    mining_free(&s);
}

static void contract_costs(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct mining_env e = env_default(5);
    struct mining_contract k = {.id = 1,
                                .kind = MINING_FIXED,
                                .price_uusd_kwh = 30000,
                                .capacity_w = 1000000,
                                .start_tick = 1,
                                .end_tick = 10};

    (void)state;
    one_site(&s, &c);
    /* Fixed price covering the whole site: 6.708333 kWh x 30,000. */
    mining_site_set_contract(&s, 0, &k);
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].cost_uusd, 201250);
    /* Capacity below the draw: 20,000 W at the fixed price, 20,250 W at spot:
     * 3.3333 kWh x 30,000 + 3.375 kWh x 40,000 = 100,000 + 135,000. */
    k.capacity_w = 20000;
    mining_site_set_contract(&s, 0, &k);
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].cost_uusd, 235000);
    /* Outside its term the site buys spot. */
    e.tick = 10;
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].cost_uusd, 268334);
    /* Demand response below its threshold: the cheaper price, no credit. */
    k = (struct mining_contract){.id = 2,
                                 .kind = MINING_DEMAND_RESPONSE,
                                 .price_uusd_kwh = 34000,
                                 .capacity_w = 1000000,
                                 .start_tick = 0,
                                 .end_tick = 100,
                                 .threshold_uusd_kwh = 80000,
                                 .credit_uusd_kwh = 20000};
    mining_site_set_contract(&s, 0, &k);
    e.tick = 11;
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].cost_uusd, 228084); /* 228,083.33 rounded up */
    assert_int_equal(s.company_res[0].credit_uusd, 0);
    assert_false(s.site_res[0].curtailed);
    /* Cancelling returns the site to spot. */
    k.kind = MINING_SPOT;
    mining_site_set_contract(&s, 0, &k);
    e.tick = 12;
    step(&s, &e, NULL);
    assert_int_equal(s.company_res[0].cost_uusd, 268334);
    mining_free(&s);
}

static void demand_response_curtails_and_credits(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct mining_env e = env_default(3);
    struct mining_contract k = {.id = 2,
                                .kind = MINING_DEMAND_RESPONSE,
                                .price_uusd_kwh = 34000,
                                .capacity_w = 1000000,
                                .start_tick = 0,
                                .end_tick = 100,
                                .threshold_uusd_kwh = 80000,
                                .credit_uusd_kwh = 20000};

    (void)state;
    one_site(&s, &c);
    mining_site_set_contract(&s, 0, &k);
    e.spot_uusd_kwh[TEXAS] = 2000000; /* a USD 2/kWh spike */
    step(&s, &e, NULL);
    assert_true(s.site_res[0].curtailed);
    assert_int_equal(s.company_res[0].hash_ghs, 0);
    assert_int_equal(s.company_res[0].sats, 0);
    assert_int_equal(s.company_res[0].cost_uusd, 0);
    assert_int_equal(s.company_res[0].energy_wh, 0);
    assert_int_equal(s.site_res[0].uptime_ppm, 0);
    /* 6.708333 kWh not drawn x 20,000 credit = 134,166.67, rounded down. */
    assert_int_equal(s.company_res[0].credit_uusd, 134166);
    /* Same spike without the contract: the site runs and pays the spike. */
    k.kind = MINING_SPOT;
    mining_site_set_contract(&s, 0, &k);
    e.tick = 4;
    step(&s, &e, NULL);
    assert_false(s.site_res[0].curtailed);
    assert_int_equal(s.company_res[0].cost_uusd, 13416667);
    assert_int_equal(s.company_res[0].credit_uusd, 0);
    mining_free(&s);
}

static void outage_stops_mining_for_its_duration(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    int64_t mined[10], quebec[10];

    (void)state;
    one_site(&s, &c);
    add_site(&s, 11, 1, MINING_QUEBEC, 3, MINING_AIR);
    add_group(&s, 101, 11, S21, MINING_STOCK, 10);
    for (int t = 0; t < 10; t++) {
        struct mining_env e = env_default(t + 1);
        if (t >= 3 && t < 6)
            e.outage_ppm[TEXAS][2] = MINING_PPM; /* Texas tier 3 down for ticks 4..6 */
        if (t == 7)
            e.outage_ppm[TEXAS][2] = MINING_PPM / 2;
        if (t == 8)
            e.outage_ppm[TEXAS][0] = MINING_PPM; /* another tier: no effect */
        step(&s, &e, NULL);
        mined[t] = s.site_res[0].hash_ghs;
        quebec[t] = s.site_res[1].hash_ghs; /* same rigs, same wear, never down */
        if (t >= 3 && t < 6) {
            assert_int_equal(s.site_res[0].hash_ghs, 0);
            assert_int_equal(s.site_res[0].sats, 0);
            assert_int_equal(s.site_res[0].cost_uusd, 0);
            assert_int_equal(s.site_res[0].uptime_ppm, 0);
            assert_true(s.site_res[1].hash_ghs > 1999000); /* Quebec unaffected */
            assert_int_equal(s.company_res[0].uptime_ppm, MINING_PPM / 2);
        }
    }
    assert_int_equal(mined[0], 2000000);
    assert_int_equal(mined[2], quebec[2]);
    assert_int_equal(mined[6], quebec[6]);
    assert_int_equal(mined[7], quebec[7] / 2);
    assert_int_equal(mined[8], quebec[8]);
    /* Site uptime counter: 10 ticks, 3 down, one half. */
    assert_int_equal(s.sites[0].ticks_run, 10);
    assert_int_equal(s.sites[0].uptime_sum_ppm, 6 * MINING_PPM + MINING_PPM / 2);
    mining_free(&s);
}

/* Sums over many companies: what is credited never exceeds the exact share
 * of the reward, and the carried remainders keep the shortfall below one
 * sat per company over any number of ticks. */
static void rounding_never_creates_money(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct bt_err err;
    const int ncomp = 400, ticks = 50;
    int64_t total_hash = 0, credited = 0;
    __int128 exact_nsat = 0;

    (void)state;
    assert_int_equal(mining_init(&s, &c, &err), BT_OK);
    for (int i = 0; i < ncomp; i++) {
        add_company(&s, i + 1);
        add_site(&s, 1000 + i, i + 1, i % MINING_NREGIONS, 1 + i % 3, MINING_AIR);
        add_group(&s, 5000 + i, 1000 + i, i % 8, MINING_STOCK, 1 + i % 7);
        if (i % 3 == 0)
            add_group(&s, 9000 + i, 1000 + i, 0, MINING_STOCK, 3);
    }
    {
        struct mining_env e = env_default(1);
        step(&s, &e, NULL);
        for (int i = 0; i < ncomp; i++)
            total_hash += s.company_res[i].hash_ghs;
    }
    /* The players are the whole network: the reward must not be exceeded. */
    for (int t = 2; t < 2 + ticks; t++) {
        struct mining_env e = env_default(t);
        int64_t tick_sum = 0, th = 0;
        e.net_hash_ghs = total_hash;
        e.reward_sats = 312500000 + t * 7919; /* an awkward number */
        e.blocks_milli = 1000 + (t % 3) * 333;
        step(&s, &e, NULL);
        for (int i = 0; i < ncomp; i++) {
            tick_sum += s.company_res[i].sats;
            th += s.company_res[i].hash_ghs;
        }
        assert_true((__int128)tick_sum * 1000 <= (__int128)e.reward_sats * e.blocks_milli);
        exact_nsat += (__int128)th * e.reward_sats * e.blocks_milli * 1000000 / e.net_hash_ghs;
        credited += tick_sum;
    }
    assert_true((__int128)credited * 1000000000 <= exact_nsat);
    assert_true((__int128)(credited + ncomp + 1) * 1000000000 > exact_nsat);
    /* A network hashrate below the players' own (inconsistent input) still
     * pays at most the block reward. */
    {
        struct mining_env e = env_default(100);
        int64_t sum = 0;
        e.net_hash_ghs = total_hash / 10;
        step(&s, &e, NULL);
        for (int i = 0; i < ncomp; i++)
            sum += s.company_res[i].sats;
        assert_true(sum <= e.reward_sats);
        assert_true(sum > e.reward_sats - ncomp - 1);
    }
    mining_free(&s);
}

static void wear_grows_with_time_overclock_and_heat(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct bt_err err;
    int64_t prev = 0, life = (int64_t)c.models[S21].lifetime_days * 86400;

    (void)state;
    assert_int_equal(mining_init(&s, &c, &err), BT_OK);
    add_company(&s, 1);
    add_site(&s, 10, 1, MINING_QUEBEC, 3, MINING_AIR);       /* nominal */
    add_site(&s, 11, 1, MINING_TEXAS, 3, MINING_AIR);        /* hot */
    add_site(&s, 12, 1, MINING_QUEBEC, 3, MINING_IMMERSION); /* immersion */
    add_group(&s, 100, 10, S21, MINING_STOCK, 10);
    add_group(&s, 101, 10, S21, MINING_OVERCLOCK, 10);
    add_group(&s, 102, 11, S21, MINING_STOCK, 10);
    add_group(&s, 103, 12, S21, MINING_STOCK, 10);
    add_group(&s, 104, 10, S21, MINING_ECO, 10);
    for (int t = 1; t <= 500; t++) {
        struct mining_env e = env_default(t);
        e.tick_secs = 3600;
        e.heat_ppm[MINING_TEXAS] = 1500000;
        step(&s, &e, NULL);
        assert_true(mining_group_wear(&s, &s.groups[0]) >= prev);
        prev = mining_group_wear(&s, &s.groups[0]);
    }
    /* Air, stock, nominal heat: exactly elapsed / design life. */
    assert_int_equal(mining_group_wear(&s, &s.groups[0]), 500LL * 3600 * MINING_PPM / life);
    assert_true(mining_group_wear(&s, &s.groups[1]) > mining_group_wear(&s, &s.groups[0]));
    assert_true(mining_group_wear(&s, &s.groups[2]) > mining_group_wear(&s, &s.groups[0]));
    assert_true(mining_group_wear(&s, &s.groups[3]) < mining_group_wear(&s, &s.groups[0]));
    assert_true(mining_group_wear(&s, &s.groups[4]) < mining_group_wear(&s, &s.groups[0]));
    /* Hot site: 1 + 1.0 x 0.5 = 1.5x the nominal rate. */
    assert_int_equal(mining_group_wear(&s, &s.groups[2]), 500LL * 3600 * 1500000 / life);
    /* Wear costs hashrate: fresh, site 10 would hash 10 x (200 + 220 + 170) TH/s. */
    assert_true(s.site_res[0].hash_ghs < 5900000);
    assert_true(s.site_res[0].hash_ghs > 5800000);
    assert_true(s.site_res[0].wear_ppm > 0);
    assert_true(s.site_res[0].wear_delta_ppm > 0);
    /* Firmware change keeps the wear reached so far. */
    {
        int64_t w = mining_group_wear(&s, &s.groups[1]);
        mining_group_set_firmware(&s, 1, MINING_STOCK);
        assert_int_equal(mining_group_wear(&s, &s.groups[1]), w);
    }
    mining_free(&s);
}

/* Counts failures of many identical groups per configuration over many ticks. */
static void failure_rate_ordered_by_heat_and_overclock(void **state)
{
    struct mining_catalog c;
    struct mining_state s;
    struct bt_err err;
    enum { CONFIGS = 4, GROUPS = 300, RIGS = 10, TICKS = 60 };
    int64_t fails[CONFIGS] = {0};
    /* eco/nominal, stock/nominal, overclock/nominal, stock/hot */
    const int fw[CONFIGS] = {MINING_ECO, MINING_STOCK, MINING_OVERCLOCK, MINING_STOCK};
    const int region[CONFIGS] = {MINING_QUEBEC, MINING_QUEBEC, MINING_QUEBEC, MINING_TEXAS};
    double expect_stock;

    (void)state;
    mining_catalog_default(&c);
    c.models[S21].afr_ppm = 450000; /* 10x, for counts large enough to compare */
    assert_int_equal(mining_init(&s, &c, &err), BT_OK);
    for (int k = 0; k < CONFIGS; k++) {
        add_company(&s, k + 1);
        for (int g = 0; g < GROUPS; g++) {
            int64_t site = 1000 * (k + 1) + g;
            add_site(&s, site, k + 1, region[k], 3, MINING_AIR);
            add_group(&s, site * 10, site, S21, fw[k], RIGS);
        }
    }
    for (int t = 1; t <= TICKS; t++) {
        struct mining_env e = env_default(t);
        e.tick_secs = 86400;
        e.heat_ppm[MINING_TEXAS] = 2000000;
        step(&s, &e, NULL);
        for (int k = 0; k < CONFIGS; k++)
            fails[k] += s.company_res[k].failures;
        /* Failed rigs stay failed until maintenance: repair them so the
         * population at risk stays the same. */
        for (int i = 0; i < s.ngroups; i++)
            s.groups[i].failed = 0;
    }
    assert_true(fails[0] < fails[1]);
    assert_true(fails[1] < fails[2]);
    assert_true(fails[1] < fails[3]);
    /* Stock at nominal heat: AFR 45 % per year (about 222 expected; wear
     * adds a little); the count is Poisson-like: within 4 standard deviations. */
    expect_stock = (double)GROUPS * RIGS * TICKS * 0.45 / 365.0;
    assert_true(fails[1] > expect_stock - 60 && fails[1] < expect_stock + 75);
    mining_free(&s);
}

static void failures_are_reported_and_maintenance_restores(void **state)
{
    struct mining_catalog c;
    struct mining_state s;
    struct bt_err err;
    int64_t t = 0, downtime;

    (void)state;
    mining_catalog_default(&c);
    c.models[S21].afr_ppm = 900000;
    assert_int_equal(mining_init(&s, &c, &err), BT_OK);
    add_company(&s, 1);
    add_site(&s, 10, 1, TEXAS, 3, MINING_AIR);
    add_group(&s, 100, 10, S21, MINING_OVERCLOCK, 1000);
    add_group(&s, 200, 10, S21, MINING_OVERCLOCK, 1000);
    while (s.nfailures == 0 && t < 1000) {
        struct mining_env e = env_default(++t);
        e.tick_secs = 86400;
        step(&s, &e, NULL);
    }
    assert_true(s.nfailures > 0);
    for (int i = 0; i < s.nfailures; i++) {
        assert_int_equal(s.failures[i].company_id, 1);
        assert_int_equal(s.failures[i].site_id, 10);
        if (i > 0)
            assert_true(s.failures[i - 1].group_id < s.failures[i].group_id);
    }
    assert_int_equal(s.groups[0].failed + s.groups[1].failed, s.company_res[0].failures);
    {
        struct mining_env e = env_default(++t);
        int64_t wear, g0 = mining_group_find(&s, 100);
        e.tick_secs = 86400;
        step(&s, &e, NULL);
        assert_true(s.groups[g0].failed > 0);
        wear = mining_group_wear(&s, &s.groups[g0]);
        assert_true(wear > 0);
        downtime = mining_maintenance_ticks(&s.cat, e.tick_secs);
        assert_int_equal(downtime, 1); /* 6 h fits in one day-long tick */
        assert_int_equal(mining_maintenance_ticks(&s.cat, 600), 36);
        mining_group_maintain(&s, (int)g0, t + 1, 2); /* offline for the next two ticks */
        assert_int_equal(s.groups[g0].failed, 0);
        assert_int_equal(mining_group_wear(&s, &s.groups[g0]), wear - wear * 700000 / MINING_PPM);
        /* Overclocked S21 on air: at most 220 TH/s a rig. */
        for (int k = 0; k < 2; k++) {
            e.tick = ++t;
            step(&s, &e, NULL);
            assert_true(s.site_res[0].hash_ghs <= 1000LL * 220000); /* only group 200 */
        }
        e.tick = ++t;
        step(&s, &e, NULL);
        assert_true(s.site_res[0].hash_ghs > 1900LL * 219000); /* group 100 back, repaired */
    }
    mining_free(&s);
}

static void throttling_never_overspends(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct bt_err err;
    enum { N = 200 };
    int64_t full[N], cash[N];
    struct mining_contract k = {.id = 1,
                                .kind = MINING_FIXED,
                                .price_uusd_kwh = 60000,
                                .capacity_w = 30000,
                                .start_tick = 0,
                                .end_tick = 1000};

    (void)state;
    assert_int_equal(mining_init(&s, &c, &err), BT_OK);
    for (int i = 0; i < N; i++) {
        add_company(&s, i + 1);
        add_site(&s, 100 + i, i + 1, i % MINING_NREGIONS, 2, MINING_HYDRO);
        add_group(&s, 1000 + i, 100 + i, i % c.nmodels, MINING_STOCK, 5 + i % 20);
        if (i % 2) {
            /* a second site whose fixed price is above spot: cost not
             * proportional to the throttle */
            add_site(&s, 500 + i, i + 1, MINING_NORWAY, 1, MINING_AIR);
            add_group(&s, 3000 + i, 500 + i, S21, MINING_STOCK, 20);
            mining_site_set_contract(&s, mining_site_find(&s, 500 + i), &k);
        }
    }
    {
        struct mining_env e = env_default(1);
        step(&s, &e, NULL);
        for (int i = 0; i < N; i++)
            full[i] = s.company_res[i].cost_uusd;
    }
    for (int i = 0; i < N; i++)
        cash[i] = i == 0 ? 0 : i % 11 == 5 ? full[i] + i : full[i] * (i % 10) / 10 + i % 7;
    {
        struct mining_env e = env_default(2);
        step(&s, &e, cash);
    }
    for (int i = 0; i < N; i++) {
        const struct mining_company_result *r = &s.company_res[i];
        assert_true(r->cost_uusd <= cash[i]);
        assert_true(r->cost_uusd >= 0);
        if (cash[i] < full[i]) {
            assert_true(r->throttle_ppm < MINING_PPM);
            /* It spends nearly all it has (within a couple of throttle steps). */
            assert_true(r->cost_uusd >= cash[i] - 2 * full[i] / MINING_PPM - 2);
        } else {
            assert_int_equal(r->throttle_ppm, MINING_PPM);
        }
    }
    assert_int_equal(s.company_res[0].hash_ghs, 0);
    assert_int_equal(s.company_res[0].sats, 0);
    mining_free(&s);
}

/* Builds the same world with entities inserted in a shuffled order. */
static void build_world(struct mining_state *s, const struct mining_catalog *c, unsigned shuffle)
{
    struct bt_err err;
    enum { NC = 60 };
    int order[NC];

    assert_int_equal(mining_init(s, c, &err), BT_OK);
    for (int i = 0; i < NC; i++)
        order[i] = i;
    for (int i = NC - 1; shuffle && i > 0; i--) {
        int j = (int)((i * 2654435761u + shuffle) % (unsigned)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int n = 0; n < NC; n++)
        add_company(s, order[n] + 1);
    for (int n = 0; n < NC; n++) {
        int i = order[n];
        add_site(s, 100 + i, i + 1, i % MINING_NREGIONS, 1 + i % 3, i % MINING_NCOOLING);
        add_site(s, 200 + i, i + 1, (i + 2) % MINING_NREGIONS, 3, MINING_IMMERSION);
    }
    for (int n = 0; n < NC; n++) {
        int i = order[n];
        add_group(s, 1000 + i, 100 + i, i % 8, i % MINING_NFIRMWARE, 1 + i % 9);
        add_group(s, 2000 + i, 200 + i, 8 + i % 2, MINING_OVERCLOCK, 10);
        add_group(s, 3000 + i, 200 + i, i % 5, MINING_STOCK, 4);
    }
}

static void run_world(struct mining_state *s, int threads, uint64_t seed, int64_t t0,
                      unsigned char out[32])
{
    crypto_generichash_state h;
    struct bt_err err;

    for (int64_t t = t0; t < t0 + 30; t++) {
        struct mining_env e = env_default(t);
        e.seed = seed;
        int64_t cash[60];
        e.tick_secs = 86400;
        e.heat_ppm[t % MINING_NREGIONS] = 1800000;
        e.outage_ppm[t % MINING_NREGIONS][t % 3] = 400000;
        for (int i = 0; i < s->ncompanies; i++)
            cash[i] = (s->companies[i].id % 4) * 500000;
        assert_int_equal(mining_step(s, &e, cash, threads, &err), BT_OK);
    }
    crypto_generichash_init(&h, NULL, 0, 32);
    mining_hash(s, &h);
    crypto_generichash_final(&h, out, 32);
}

static void deterministic_and_independent_of_order_and_threads(void **state)
{
    struct mining_catalog c;
    struct mining_state a, b;
    struct bt_err err;
    unsigned char ha[32], hb[32];
    (void)state;
    mining_catalog_default(&c);
    c.models[0].afr_ppm = 900000; /* make failures happen */
    build_world(&a, &c, 0);
    build_world(&b, &c, 7);
    assert_int_equal(mining_reorder(&b, &err), BT_OK); /* memory order must not matter */
    assert_int_equal(b.groups[mining_group_find(&b, 2005)].id, 2005);
    run_world(&a, 1, 42, 1, ha);
    run_world(&b, 2, 42, 1, hb);
    assert_memory_equal(ha, hb, 32);
    for (int i = 0; i < a.ncompanies; i++) {
        const struct mining_company_result *x = &a.company_res[i];
        const struct mining_company_result *y =
            &b.company_res[mining_company_find(&b, a.companies[i].id)];
        assert_int_equal(x->sats, y->sats);
        assert_int_equal(x->cost_uusd, y->cost_uusd);
        assert_int_equal(x->hash_ghs, y->hash_ghs);
        assert_int_equal(x->throttle_ppm, y->throttle_ppm);
        assert_int_equal(x->failures, y->failures);
    }
    assert_int_equal(a.nfailures, b.nfailures);
    assert_true(a.nfailures > 0);
    for (int i = 0; i < a.nfailures; i++) {
        assert_int_equal(a.failures[i].group_id, b.failures[i].group_id);
        assert_int_equal(a.failures[i].count, b.failures[i].count);
    }
    /* A different seed gives a different history. */
    mining_free(&b);
    build_world(&b, &c, 0);
    run_world(&b, 1, 43, 1, hb);
    assert_memory_not_equal(ha, hb, 32);
    mining_free(&a);
    mining_free(&b);
}

static void snapshot_round_trip_keeps_hash_and_future(void **state)
{
    struct mining_catalog c;
    struct mining_state a, b;
    struct bt_err err;
    struct json_object *j;
    unsigned char ha[32], hb[32];
    crypto_generichash_state h;

    (void)state;
    mining_catalog_default(&c);
    build_world(&a, &c, 3);
    run_world(&a, 1, 42, 1, ha);
    mining_group_remove(&a, 0, 1000); /* swap-removal changes array order */
    j = mining_to_json(&a);
    assert_non_null(j);
    assert_int_equal(mining_init(&b, &c, &err), BT_OK);
    assert_int_equal(mining_from_json(&b, j, &err), BT_OK);
    json_object_put(j);
    crypto_generichash_init(&h, NULL, 0, 32);
    mining_hash(&a, &h);
    crypto_generichash_final(&h, ha, 32);
    crypto_generichash_init(&h, NULL, 0, 32);
    mining_hash(&b, &h);
    crypto_generichash_final(&h, hb, 32);
    assert_memory_equal(ha, hb, 32);
    run_world(&a, 1, 42, 31, ha);
    run_world(&b, 2, 42, 31, hb);
    assert_memory_equal(ha, hb, 32);
    /* A damaged snapshot is refused with a message. */
    j = json_tokener_parse("{\"tick\": 1, \"windex\": [1, 2]}");
    assert_int_equal(mining_from_json(&b, j, &err), BT_ERR);
    json_object_put(j);
    mining_free(&a);
    mining_free(&b);
}

static void groups_removed_and_found_by_id(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct bt_err err;

    (void)state;
    assert_int_equal(mining_init(&s, &c, &err), BT_OK);
    add_company(&s, 1);
    add_site(&s, 10, 1, TEXAS, 3, MINING_AIR);
    for (int i = 0; i < 500; i++)
        add_group(&s, 100 + i, 10, i % 8, MINING_STOCK, 2);
    assert_true(mining_group_add(&s, &s.groups[0], &err) < 0); /* duplicate id */
    for (int i = 0; i < 500; i += 2)
        mining_group_remove(&s, mining_group_find(&s, 100 + i), 2);
    assert_int_equal(s.ngroups, 250);
    for (int i = 0; i < 500; i++) {
        int gi = mining_group_find(&s, 100 + i);
        if (i % 2 == 0)
            assert_int_equal(gi, -1);
        else
            assert_int_equal(s.groups[gi].id, 100 + i);
    }
    s.groups[0].failed = 1;
    mining_group_remove(&s, 0, 1); /* failed rigs go first */
    assert_int_equal(s.groups[0].count, 1);
    assert_int_equal(s.groups[0].failed, 0);
    {
        struct mining_env e = env_default(1);
        struct mining_site_use use;
        step(&s, &e, NULL);
        {
            int64_t power = 0;
            mining_group_set_firmware(&s, 3, MINING_OVERCLOCK);
            mining_group_set_firmware(&s, 4, MINING_ECO);
            for (int i = 0; i < s.ngroups; i++)
                power += mining_rig_power_w(&s.cat, s.groups[i].model, s.groups[i].firmware,
                                            MINING_AIR, s.groups[i].count);
            mining_site_use(&s, 0, &use);
            assert_int_equal(use.slots_used, 249 * 2 + 1);
            assert_int_equal(use.power_w, power);
        }
    }
    mining_free(&s);
}

static void validation_reasons(void **state)
{
    struct mining_catalog c;
    struct mining_site_use use = {0, 0};
    struct mining_contract k;
    struct bt_err err;
    int64_t cap, cost;
    int32_t slots;

    (void)state;
    mining_catalog_default(&c);
    mining_site_shape(&c, 1, MINING_AIR, &cap, &slots);
    assert_int_equal(cap, 500000);
    assert_int_equal(slots, 125);

    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s21", 100, 1LL << 50, &cost),
        MINING_OK);
    assert_int_equal(cost, 100 * 3600000000LL);
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s99", 1, 1LL << 50, &cost),
        MINING_UNKNOWN_MODEL);
    c.models[mining_model_find(&c, "s9")].retired = true; /* installed ones keep running */
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s9", 1, 1LL << 50, &cost),
        MINING_RETIRED_MODEL);
    c.models[mining_model_find(&c, "s9")].retired = false;
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s21", 0, 1LL << 50, &cost),
        MINING_BAD_COUNT);
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s21hyd", 1, 1LL << 50, &cost),
        MINING_MODEL_NEEDS_COOLING);
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s9", 126, 1LL << 50, &cost),
        MINING_NO_SLOTS);
    /* 124 x 3,500 W x 1.15 = 499,100 W fits; 125 would need 503,125 W. */
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s21", 125, 1LL << 50, &cost),
        MINING_NO_POWER);
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s21", 124, 1LL << 50, &cost),
        MINING_OK);
    assert_int_equal(mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s21", 10, 5, &cost),
                     MINING_NO_CASH);
    use.slots_used = 100;
    use.power_w = mining_rig_power_w(&c, S21, MINING_STOCK, MINING_AIR, 100);
    assert_int_equal(use.power_w, 402500);
    assert_int_equal(
        mining_check_rig_add(&c, MINING_AIR, cap, slots, &use, "s21", 25, 1LL << 50, &cost),
        MINING_NO_POWER);
    /* Overclocking 100 of them (+16 % power on air) still fits: 466,900 W ... */
    assert_int_equal(
        mining_check_firmware(&c, MINING_AIR, cap, &use, S21, 100, MINING_STOCK, "overclock"),
        MINING_OK);
    /* ... 120 do not: 560,280 W. */
    use.slots_used = 120;
    use.power_w = mining_rig_power_w(&c, S21, MINING_STOCK, MINING_AIR, 120);
    assert_int_equal(
        mining_check_firmware(&c, MINING_AIR, cap, &use, S21, 120, MINING_STOCK, "overclock"),
        MINING_NO_POWER);
    assert_int_equal(
        mining_check_firmware(&c, MINING_AIR, cap, &use, S21, 120, MINING_STOCK, "eco"), MINING_OK);
    assert_int_equal(
        mining_check_firmware(&c, MINING_AIR, cap, &use, S21, 120, MINING_STOCK, "warp"),
        MINING_BAD_FIRMWARE);
    assert_int_equal(
        mining_check_firmware(&c, MINING_AIR, cap, &use, S21, 120, MINING_STOCK, "stock"),
        MINING_NOTHING_TO_DO);
    assert_int_equal(mining_check_maintenance(&c, S21, 10, 0, 0, 1LL << 40, &cost),
                     MINING_NOTHING_TO_DO);
    assert_int_equal(mining_check_maintenance(&c, S21, 10, 2, 5000, 1LL << 40, &cost), MINING_OK);
    assert_int_equal(cost, 10 * 72000000LL + 2 * 900000000LL);
    assert_int_equal(mining_contract_quote(&c, "demand_response", 40000, cap, 5, 100, &k),
                     MINING_OK);
    assert_int_equal(k.price_uusd_kwh, 34000);
    assert_int_equal(k.threshold_uusd_kwh, 80000);
    assert_int_equal(k.end_tick, 105);
    assert_int_equal(mining_contract_quote(&c, "spot", 40000, cap, 5, 100, &k),
                     MINING_BAD_CONTRACT);
    assert_int_equal(mining_contract_quote(&c, "fixed", 40000, cap, 5, 1, &k), MINING_BAD_CONTRACT);
    /* Reasons become problems: bad input is a 400 with the field, state a 409. */
    err_clear(&err);
    assert_int_equal(mining_reason_err(MINING_UNKNOWN_MODEL, "model", &err), BT_ERR);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.fields[0].field, "model");
    assert_string_equal(err.fields[0].code, "unknown_model");
    err_clear(&err);
    assert_int_equal(mining_reason_err(MINING_NO_SLOTS, "count", &err), BT_ERR);
    assert_int_equal(err.status, 409);
    assert_int_equal(mining_reason_err(MINING_OK, "count", &err), BT_OK);
}

static void invalid_env_refused(void **state)
{
    struct mining_catalog c = cat_no_failures();
    struct mining_state s;
    struct mining_env e = env_default(1);
    struct bt_err err;
    int64_t cash[1] = {-1};

    (void)state;
    one_site(&s, &c);
    e.net_hash_ghs = 0;
    assert_int_equal(mining_step(&s, &e, NULL, 1, &err), BT_ERR);
    e = env_default(1);
    e.outage_ppm[0][0] = MINING_PPM + 1;
    assert_int_equal(mining_step(&s, &e, NULL, 1, &err), BT_ERR);
    e = env_default(1);
    assert_int_equal(mining_step(&s, &e, cash, 1, &err), BT_ERR);
    assert_int_equal(s.tick, 0); /* nothing happened */
    mining_free(&s);
    /* An empty world steps. */
    assert_int_equal(mining_init(&s, &c, &err), BT_OK);
    e = env_default(1);
    assert_int_equal(mining_step(&s, &e, NULL, 2, &err), BT_OK);
    assert_int_equal(s.nfailures, 0);
    mining_free(&s);
}

/* migrations/0007_mining.sql inserts the same content as the C defaults
 * (run from the repository root, as `make unit` does). */
static void migration_mirrors_default_catalog(void **state)
{
    struct mining_catalog c;
    FILE *f = fopen("migrations/0007_mining.sql", "r");
    char line[512];
    int models = 0, coolings = 0, tiers = 0, kinds = 0, params = 0;

    (void)state;
    assert_non_null(f);
    mining_catalog_default(&c);
    while (fgets(line, sizeof(line), f)) {
        char id[24], name[48], cool[64], expect[64];
        int pos, year, life, afr, hz, loss, pue, wear, haz, sens, oc, slots, tier, om, a, b, d;
        long long hash, power, price, cap, lo, hi;

        if (sscanf(line,
                   "(%d, '%23[^']', '%47[^']', %d, %lld, %lld, %lld, %d, %d, %d, %d, "
                   "'{%63[^}]}')",
                   &pos, id, name, &year, &hash, &power, &price, &life, &afr, &hz, &loss,
                   cool) == 12) {
            const struct mining_model *m = &c.models[pos];
            assert_true(pos < c.nmodels);
            assert_string_equal(m->id, id);
            assert_string_equal(m->name, name);
            assert_int_equal(m->year, year);
            assert_int_equal(m->hash_ghs, hash);
            assert_int_equal(m->power_w, power);
            assert_int_equal(m->price_uusd, price);
            assert_int_equal(m->lifetime_days, life);
            assert_int_equal(m->afr_ppm, afr);
            assert_int_equal(m->wear_hazard_ppm, hz);
            assert_int_equal(m->wear_loss_ppm, loss);
            expect[0] = 0;
            for (int k = 0; k < MINING_NCOOLING; k++)
                if (m->cooling_mask & (1u << k))
                    snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), "%s%s",
                             expect[0] ? "," : "", mining_cooling_name(k));
            assert_string_equal(cool, expect);
            models++;
        } else if (sscanf(line, "('%15[^']', %d, %d, %d, %d, %d, %d)", id, &pue, &wear, &haz, &sens,
                          &oc, &slots) == 7) {
            const struct mining_cooling_type *k = &c.cooling[mining_cooling_parse(id)];
            assert_int_equal(k->pue_ppm, pue);
            assert_int_equal(k->wear_ppm, wear);
            assert_int_equal(k->hazard_ppm, haz);
            assert_int_equal(k->heat_sens_ppm, sens);
            assert_int_equal(k->oc_headroom_ppm, oc);
            assert_int_equal(k->slots_per_mw, slots);
            coolings++;
        } else if (sscanf(line, "('%15[^']', %d, %d, %d, %lld, %lld)", id, &a, &b, &d, &lo, &hi) ==
                   6) {
            const struct mining_contract_terms *t = &c.terms[mining_contract_parse(id)];
            assert_int_equal(t->price_ppm, a);
            assert_int_equal(t->threshold_ppm, b);
            assert_int_equal(t->credit_ppm, d);
            assert_int_equal(t->min_ticks, lo);
            assert_int_equal(t->max_ticks, hi);
            kinds++;
        } else if (sscanf(line, "(%d, %lld, %d)", &tier, &cap, &om) == 3) {
            assert_int_equal(c.tiers[tier - 1].capacity_kw, cap);
            assert_int_equal(c.tiers[tier - 1].outage_mult_ppm, om);
            tiers++;
        } else if (sscanf(line, "INSERT INTO mining_params VALUES (true, %d, %d, %d, %lld)", &a, &b,
                          &d, &lo) == 4) {
            assert_int_equal(c.maint_service_ppm, a);
            assert_int_equal(c.maint_repair_ppm, b);
            assert_int_equal(c.maint_restore_ppm, d);
            assert_int_equal(c.maint_downtime_secs, lo);
            params++;
        }
    }
    fclose(f);
    assert_int_equal(models, c.nmodels);
    assert_int_equal(coolings, MINING_NCOOLING);
    assert_int_equal(tiers, MINING_NTIERS);
    assert_int_equal(kinds, MINING_NCONTRACT);
    assert_int_equal(params, 1);
}

/* The catalog snapshot (beside the state in the phase's snapshot) restores
 * every field the step, the checks and the hash use. */
static void catalog_json_round_trip(void **state)
{
    struct mining_catalog a, b;
    struct mining_state sa, sb;
    struct json_object *j, *bad;
    struct bt_err err;
    crypto_generichash_state ha, hb;
    unsigned char da[32], db[32];

    (void)state;
    err_clear(&err);
    mining_catalog_default(&a);
    a.models[3].price_uusd += 7; /* not the default: the snapshot carries it */
    a.cooling[MINING_HYDRO].slots_per_mw = 111;
    a.terms[MINING_FIXED].max_ticks = 77;
    a.models[0].retired = true;
    j = mining_catalog_to_json(&a);
    assert_int_equal(mining_catalog_from_json(&b, j, &err), BT_OK);
    assert_int_equal(b.nmodels, a.nmodels);
    for (int i = 0; i < a.nmodels; i++) {
        assert_string_equal(b.models[i].id, a.models[i].id);
        assert_string_equal(b.models[i].name, a.models[i].name);
        assert_memory_equal(&b.models[i].year, &a.models[i].year,
                            sizeof(a.models[i]) - offsetof(struct mining_model, year));
    }
    assert_int_equal(b.models[3].price_uusd, a.models[3].price_uusd);
    assert_true(b.models[0].retired && !b.models[1].retired);
    assert_int_equal(b.cooling[MINING_HYDRO].slots_per_mw, 111);
    assert_string_equal(b.cooling[MINING_HYDRO].id, "hydro");
    assert_int_equal(b.terms[MINING_FIXED].max_ticks, 77);
    assert_int_equal(b.maint_downtime_secs, a.maint_downtime_secs);
    assert_int_equal(b.nominal_heat_ppm, a.nominal_heat_ppm);
    assert_int_equal(b.tiers[2].capacity_kw, a.tiers[2].capacity_kw);
    /* Same hash with either catalog. */
    assert_int_equal(mining_init(&sa, &a, &err), BT_OK);
    assert_int_equal(mining_init(&sb, &b, &err), BT_OK);
    crypto_generichash_init(&ha, NULL, 0, sizeof(da));
    crypto_generichash_init(&hb, NULL, 0, sizeof(db));
    mining_hash(&sa, &ha);
    mining_hash(&sb, &hb);
    crypto_generichash_final(&ha, da, sizeof(da));
    crypto_generichash_final(&hb, db, sizeof(db));
    assert_memory_equal(da, db, sizeof(da));
    mining_free(&sa);
    mining_free(&sb);
    /* A damaged snapshot is refused. */
    json_object_object_add(j, "tiers", json_object_new_array());
    assert_int_equal(mining_catalog_from_json(&b, j, &err), BT_ERR);
    bad = json_tokener_parse("{\"models\": [{\"id\": \"x\", \"name\": \"y\", \"v\": [1, 2]}]}");
    assert_int_equal(mining_catalog_from_json(&b, bad, &err), BT_ERR);
    json_object_put(bad);
    json_object_put(j);
}

/* The read-side figures: wear from the index, worn hashrate, facility
 * power, and one tick of energy under each contract kind. */
static void read_side_estimates(void **state)
{
    struct mining_catalog c;
    struct mining_contract k;
    int s21, s9;
    int64_t hash, power, life;

    (void)state;
    mining_catalog_default(&c);
    s21 = mining_model_find(&c, "s21");
    s9 = mining_model_find(&c, "s9");
    life = 2190LL * 86400;
    /* The index counts nominal seconds x ppm: one design life = life x 1e6. */
    assert_int_equal(mining_wear(&c, s21, 1000, 5, 5 + 3000 * life), 4000);
    assert_int_equal(mining_wear(&c, s21, 999000, 0, 2000 * life), 1000000); /* capped */
    assert_int_equal(mining_wear(&c, s21, 10, 100 * life, 0), 0);            /* never negative */
    mining_rig_nominal(&c, s21, MINING_STOCK, MINING_AIR, 10, 0, &hash, &power);
    assert_int_equal(hash, 10 * 200000);
    assert_int_equal(power, 10 * 3500 * 115 / 100); /* PUE 1.15 */
    mining_rig_nominal(&c, s21, MINING_STOCK, MINING_AIR, 10, 1000000, &hash, &power);
    assert_int_equal(hash, 10 * 180000); /* 10 % lost when worn out */
    mining_rig_nominal(&c, s9, MINING_ECO, MINING_AIR, 4, 0, &hash, &power);
    assert_int_equal(hash, 4 * (13500 * 850000LL / 1000000));
    mining_rig_nominal(&c, s9, MINING_STOCK, MINING_AIR, 0, 0, &hash, &power);
    assert_int_equal(hash, 0);
    assert_int_equal(power, 0);

    /* 1 MW for a game hour at 50,000 uusd/kWh spot = 1000 kWh x 0.05 = 50 USD. */
    memset(&k, 0, sizeof(k));
    assert_int_equal(mining_energy_estimate(&k, 10, 50000, 1000000, 3600), 50000000);
    /* Fixed contract covering half the power at 40,000; the rest at spot. */
    k = (struct mining_contract){7, MINING_FIXED, 40000, 500000, 5, 20, 0, 0};
    assert_int_equal(mining_energy_estimate(&k, 10, 50000, 1000000, 3600), 45000000);
    assert_int_equal(mining_energy_estimate(&k, 20, 50000, 1000000, 3600), 50000000); /* ended */
    /* Demand response: curtailed (no draw) above its threshold. */
    k = (struct mining_contract){8, MINING_DEMAND_RESPONSE, 42500, 2000000, 5, 20, 100000, 25000};
    assert_int_equal(mining_energy_estimate(&k, 10, 50000, 1000000, 3600), 42500000);
    assert_int_equal(mining_energy_estimate(&k, 10, 100001, 1000000, 3600), 0);
    /* Rounded up to the micro-dollar. */
    memset(&k, 0, sizeof(k));
    assert_int_equal(mining_energy_estimate(&k, 1, 1, 1, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(yield_matches_hand_computed_value),
        cmocka_unit_test(spot_energy_cost_matches_hand_computed_value),
        cmocka_unit_test(contract_costs),
        cmocka_unit_test(demand_response_curtails_and_credits),
        cmocka_unit_test(outage_stops_mining_for_its_duration),
        cmocka_unit_test(rounding_never_creates_money),
        cmocka_unit_test(wear_grows_with_time_overclock_and_heat),
        cmocka_unit_test(failure_rate_ordered_by_heat_and_overclock),
        cmocka_unit_test(failures_are_reported_and_maintenance_restores),
        cmocka_unit_test(throttling_never_overspends),
        cmocka_unit_test(deterministic_and_independent_of_order_and_threads),
        cmocka_unit_test(snapshot_round_trip_keeps_hash_and_future),
        cmocka_unit_test(groups_removed_and_found_by_id),
        cmocka_unit_test(validation_reasons),
        cmocka_unit_test(invalid_env_refused),
        cmocka_unit_test(migration_mirrors_default_catalog),
        cmocka_unit_test(catalog_json_round_trip),
        cmocka_unit_test(read_side_estimates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
