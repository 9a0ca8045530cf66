/*
 * test_world.c - the world processes: determinism, thread-count invariance,
 * Bitcoin's retarget clamp and halvings, the BTC price's annualised
 * volatility and clustering, outage odds by tier, the demand curve's peak,
 * event conditions, snapshots and admin shocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../tickd/world_internal.h"

#define SEED 20240420u

static struct world_model *fresh(uint64_t seed)
{
    struct world_model *wm = malloc(sizeof(*wm));

    world_model_init(wm, 1, seed, 0);
    return wm;
}

static void digest(const struct world_model *wm, unsigned char out[32])
{
    crypto_generichash_state h;

    crypto_generichash_init(&h, NULL, 0, 32);
    world_model_hash(wm, &h);
    crypto_generichash_final(&h, out, 32);
}

static void run(struct world_model *wm, int64_t from, int64_t n, int threads)
{
    for (int64_t t = from; t < from + n; t++)
        world_model_step(wm, wm->seed, t, threads);
}

static void same_seed_same_hash(void **state)
{
    struct world_model *a = fresh(SEED), *b = fresh(SEED), *c = fresh(SEED + 1);
    unsigned char ha[32], hb[32], hc[32];

    (void)state;
    run(a, 1, 500, 1);
    run(b, 1, 500, 1);
    run(c, 1, 500, 1);
    digest(a, ha);
    digest(b, hb);
    digest(c, hc);
    assert_memory_equal(ha, hb, 32);
    assert_memory_not_equal(ha, hc, 32);
    assert_int_not_equal(a->price_uusd, c->price_uusd);
    free(a);
    free(b);
    free(c);
}

static void thread_count_does_not_change_results(void **state)
{
    unsigned char ref[32], h[32];
    int threads[] = {1, 2, 3, 4, 6, 64};

    (void)state;
    for (size_t i = 0; i < BT_ARRAY_LEN(threads); i++) {
        struct world_model *wm = fresh(SEED);
        /* Many events and outages, so every code path draws. */
        wm->params[WP_EVENT_RATE_PCT] = 5000;
        wm->params[WP_OUTAGE_RATE_PCT] = 5000;
        run(wm, 1, 400, threads[i]);
        digest(wm, i == 0 ? ref : h);
        if (i > 0)
            assert_memory_equal(ref, h, 32);
        assert_true(wm->nevents > 0);
        free(wm);
    }
}

static void retarget_clamps_by_four_both_ways(void **state)
{
    const int64_t d = 100000000000000LL, expected = 2016 * 600;

    (void)state;
    assert_int_equal(world_retarget(d, expected, expected), d);
    assert_int_equal(world_retarget(d, expected / 2, expected), 2 * d);
    assert_int_equal(world_retarget(d, expected * 2, expected), d / 2);
    assert_int_equal(world_retarget(d, expected / 10, expected), 4 * d); /* not 10x */
    assert_int_equal(world_retarget(d, 0, expected), 4 * d);
    assert_int_equal(world_retarget(d, expected * 10, expected), d / 4); /* not 1/10 */
}

static void difficulty_follows_the_observed_block_rate(void **state)
{
    struct world_model *wm = fresh(SEED);
    int64_t d0 = wm->difficulty, t = 1;

    (void)state;
    wm->params[WP_HASHRATE_VOL_BP] = 0;
    wm->params[WP_HASHRATE_GROWTH_BP] = 0;
    /* Players double the network hashrate: blocks come twice as fast. */
    world_model_set_player_hashrate(wm, wm->row_hashrate_ths);
    wm->height = wm->epoch_start_height; /* a period starts now */
    wm->epoch_start_time_s = wm->game_time_s;
    while (wm->difficulty == d0 && t < 5000)
        world_model_step(wm, SEED, t++, 1);
    assert_true(wm->difficulty > d0 * 18 / 10 && wm->difficulty < d0 * 22 / 10);
    /* ~1008 ticks for 2016 blocks at two blocks per 10-minute tick. */
    assert_in_range(t, 900, 1120);
    free(wm);
}

static void subsidy_halves_every_210000_blocks(void **state)
{
    struct world_model *wm = fresh(SEED);
    int64_t t = 1;

    (void)state;
    assert_int_equal(world_subsidy_at(839999), 625000000);
    assert_int_equal(world_subsidy_at(840000), 312500000);
    assert_int_equal(world_subsidy_at(1049999), 312500000);
    assert_int_equal(world_subsidy_at(1050000), 156250000);
    assert_int_equal(world_subsidy_at(64 * 210000LL), 0);
    assert_int_equal(world_model_subsidy_sats(wm), 312500000); /* a 2025 start */
    wm->height = 1049999;
    wm->epoch_start_height = wm->height - wm->height % 2016;
    wm->epoch_start_time_s = wm->game_time_s - (wm->height - wm->epoch_start_height) * 600;
    while (world_model_blocks_last_tick(wm) == 0 && t < 100)
        world_model_step(wm, SEED, t++, 1);
    assert_true(wm->height >= 1050000);
    assert_int_equal(world_model_subsidy_sats(wm), 156250000);
    free(wm);
}

static double corr_lag1(const double *x, int64_t n)
{
    double m = 0, num = 0, den = 0;

    for (int64_t i = 0; i < n; i++)
        m += x[i] / (double)n;
    for (int64_t i = 0; i < n; i++) {
        den += (x[i] - m) * (x[i] - m);
        if (i > 0)
            num += (x[i] - m) * (x[i - 1] - m);
    }
    return num / den;
}

static void price_volatility_is_realistic_and_clusters(void **state)
{
    /* Four game years of 10-minute ticks (default parameters), price only. */
    struct world_model *wm = fresh(SEED);
    const int64_t days = 4 * 365, n = days * 144;
    double *rv = calloc((size_t)days, sizeof(double));
    double sum = 0, sum2 = 0, vol, ac;

    (void)state;
    for (int64_t t = 1; t <= n; t++) {
        double r;
        wm->tick = t;
        world_price_step(wm, SEED, t);
        r = log((double)wm->price_uusd / (double)wm->price_prev_uusd);
        sum += r;
        sum2 += r * r;
        rv[(t - 1) / 144] += r * r;
    }
    vol = sqrt((sum2 - sum * sum / (double)n) / (double)(n - 1) * WORLD_SECONDS_PER_YEAR / 600.0);
    print_message("annualised volatility over 4 game years: %.1f %%\n", vol * 100);
    assert_true(vol > 0.50 && vol < 0.80);
    /* Volatility clustering: a turbulent day tends to follow a turbulent
     * day (i.i.d. returns would give ~0). */
    ac = corr_lag1(rv, days);
    print_message("lag-1 autocorrelation of daily realised variance: %.3f\n", ac);
    assert_true(ac > 0.1);
    free(rv);
    free(wm);
}

static void outage_odds_fall_with_the_tier(void **state)
{
    struct world_model *wm = fresh(SEED);

    (void)state;
    for (int r = 0; r < WORLD_NREGIONS; r++) {
        int64_t t1 = world_outage_ppm(wm, r, 1), t2 = world_outage_ppm(wm, r, 2),
                t3 = world_outage_ppm(wm, r, 3);
        assert_true(t1 > t2 && t2 > t3 && t3 > 0);
    }
    /* Less reliable grids fail more often: Kazakhstan vs Quebec. */
    assert_true(world_outage_ppm(wm, world_region_index("kazakhstan"), 1) >
                world_outage_ppm(wm, world_region_index("quebec"), 1));
    /* A grid emergency raises every tier's odds. */
    {
        int tx = world_region_index("texas");
        int64_t before = world_outage_ppm(wm, tx, 3);
        wm->events[0] = (struct world_event){1, WEV_GRID_EMERGENCY, tx, 3, 25000, 0, 100};
        wm->nevents = 1;
        assert_true(world_outage_ppm(wm, tx, 3) > 4 * before);
    }
    free(wm);
}

static void demand_peaks_at_six_pm_local(void **state)
{
    struct world_model *wm = fresh(SEED);

    (void)state;
    assert_int_equal(world_demand_peak_hour(), 18);
    for (int r = 0; r < WORLD_NREGIONS; r++) {
        int64_t best = 0, worst = 0;
        for (int64_t s = 0; s < 86400; s += 60) {
            if (world_demand_bp(wm, r, s) > world_demand_bp(wm, r, best))
                best = s;
            if (world_demand_bp(wm, r, s) < world_demand_bp(wm, r, worst))
                worst = s;
        }
        assert_int_equal(best, 18 * 3600);
        assert_int_equal(worst, 3 * 3600);
    }
    /* The admin amplitude flattens the curve completely at 0 %. */
    wm->params[WP_DEMAND_AMP_PCT] = 0;
    assert_int_equal(world_demand_bp(wm, 0, 18 * 3600), 10000);
    free(wm);
}

static void events_respect_their_conditions(void **state)
{
    struct world_model *wm = fresh(SEED);
    int tx = world_region_index("texas"), qc = world_region_index("quebec");
    int is = world_region_index("iceland"), pk = world_region_index("paraguay");
    int64_t jan = wm->game_time_s, jul = jan + 200 * 86400LL, calm;
    int64_t seen[WEV_COUNT][WORLD_NREGIONS + 1];

    (void)state;
    /* Dust storms only in arid regions, whatever the season. */
    for (int64_t t = jan; t < jan + 365 * 86400LL; t += 30 * 86400LL) {
        wm->game_time_s = t;
        assert_int_equal(world_event_chance_ppm(wm, WEV_DUST_STORM, is), 0);
        assert_int_equal(world_event_chance_ppm(wm, WEV_DUST_STORM, qc), 0);
    }
    /* Heat waves need heat: Texas in July yes, Quebec in January no;
     * Paraguay's summer is in January. */
    wm->game_time_s = jul;
    assert_true(world_event_chance_ppm(wm, WEV_HEAT_WAVE, tx) > 0);
    assert_int_equal(world_event_chance_ppm(wm, WEV_HEAT_WAVE, pk), 0);
    wm->game_time_s = jan;
    assert_int_equal(world_event_chance_ppm(wm, WEV_HEAT_WAVE, qc), 0);
    assert_true(world_event_chance_ppm(wm, WEV_HEAT_WAVE, pk) > 0);
    assert_true(world_event_chance_ppm(wm, WEV_COLD_SNAP, qc) > 0);
    /* Global types have no region and vice versa. */
    assert_int_equal(world_event_chance_ppm(wm, WEV_REGULATORY_SHOCK, tx), 0);
    assert_true(world_event_chance_ppm(wm, WEV_REGULATORY_SHOCK, -1) > 0);
    assert_int_equal(world_event_chance_ppm(wm, WEV_HEAT_WAVE, -1), 0);
    /* A heat wave makes a grid emergency more likely. */
    wm->game_time_s = jul;
    calm = world_event_chance_ppm(wm, WEV_GRID_EMERGENCY, tx);
    wm->tick = 5;
    wm->events[0] = (struct world_event){1, WEV_HEAT_WAVE, tx, 3, 7500, 0, 100};
    wm->nevents = 1;
    assert_true(world_event_chance_ppm(wm, WEV_GRID_EMERGENCY, tx) >= 3 * calm && calm > 0);
    free(wm);

    /* A long run with frequent events: what happens matches the tables. */
    wm = fresh(SEED);
    memset(seen, 0, sizeof(seen));
    wm->params[WP_EVENT_RATE_PCT] = 3000;
    for (int64_t t = 1; t <= 52596; t++) {
        world_model_step(wm, SEED, t, 1);
        for (int64_t i = 0; i < wm->nevents; i++)
            if (wm->events[i].start_tick == t) {
                const struct world_event *e = &wm->events[i];
                seen[e->type][e->region + 1]++;
                assert_int_equal(wevent_regional((int)e->type), e->region >= 0);
                assert_in_range(e->severity, 1, 5);
                assert_true(e->resolution_tick > e->start_tick);
                if (e->type == WEV_DUST_STORM)
                    assert_true(world_regions[e->region].arid);
            }
    }
    assert_true(seen[WEV_DUST_STORM][tx + 1] > 0);
    assert_true(seen[WEV_HEAT_WAVE][tx + 1] > 0);
    assert_int_equal(seen[WEV_HEAT_WAVE][is + 1], 0); /* Iceland never reaches 22 C */
    assert_true(seen[WEV_COLD_SNAP][qc + 1] > 0);
    assert_true(seen[WEV_REGULATORY_SHOCK][0] > 0);
    assert_true(seen[WEV_GRID_EMERGENCY][world_region_index("kazakhstan") + 1] >
                seen[WEV_GRID_EMERGENCY][qc + 1]);
    free(wm);
}

static void heat_raises_cooling_load_and_texas_prices(void **state)
{
    struct world_model *a = fresh(SEED), *b = fresh(SEED);
    int tx = world_region_index("texas");

    (void)state;
    a->game_time_s = b->game_time_s += 200 * 86400LL;
    b->events[0] = (struct world_event){1, WEV_HEAT_WAVE, tx, 5, 10500, 0, 1000};
    b->next_event_id = 2;
    b->nevents = 1;
    run(a, 1, 30, 1);
    run(b, 1, 30, 1);
    assert_true(b->regions[tx].temp_mc >= a->regions[tx].temp_mc + 10000);
    assert_true(world_model_cooling_load_bp(b, tx) > world_model_cooling_load_bp(a, tx));
    free(a);
    free(b);
}

static void snapshot_round_trip_keeps_the_hash(void **state)
{
    struct world_model *a = fresh(SEED), *b = malloc(sizeof(*b));
    unsigned char ha[32], hb[32];
    struct json_object *j, *broken;
    struct bt_err err;

    (void)state;
    a->params[WP_EVENT_RATE_PCT] = 5000;
    run(a, 1, 300, 2);
    j = world_model_to_json(a);
    memset(b, 0, sizeof(*b));
    err_clear(&err);
    assert_int_equal(world_model_from_json(b, j, &err), BT_OK);
    digest(a, ha);
    digest(b, hb);
    assert_memory_equal(ha, hb, 32);
    /* And they continue identically. */
    run(a, 301, 50, 1);
    b->seed = a->seed;
    run(b, 301, 50, 3);
    digest(a, ha);
    digest(b, hb);
    assert_memory_equal(ha, hb, 32);
    broken = json_tokener_parse(json_object_to_json_string(j));
    json_object_object_del(json_object_object_get(broken, "state"), "difficulty");
    assert_int_equal(world_model_from_json(b, broken, &err), BT_ERR);
    json_object_put(broken);
    json_object_put(j);
    free(a);
    free(b);
}

static void admin_shocks_apply_at_the_next_step(void **state)
{
    struct world_model *a = fresh(SEED), *b = fresh(SEED);
    int kz = world_region_index("kazakhstan");
    double ratio;

    (void)state;
    b->shocks[0] = (struct world_shock){1, WORLD_SHOCK_PRICE, -3000, 0, -1};
    b->shocks[1] = (struct world_shock){2, WORLD_SHOCK_EVENT, 0, WEV_GRID_EMERGENCY, kz};
    b->nshocks = 2;
    world_model_step(a, SEED, 1, 1);
    world_model_step(b, SEED, 1, 1);
    ratio = (double)b->price_uusd / (double)a->price_uusd;
    assert_true(ratio > 0.6999 && ratio < 0.7001);
    assert_non_null(world_event_active(b, WEV_GRID_EMERGENCY, kz));
    assert_true(b->regions[kz].energy_price_uusd > a->regions[kz].energy_price_uusd);
    assert_int_equal(b->nshocks, 0); /* consumed */
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_hash),
        cmocka_unit_test(thread_count_does_not_change_results),
        cmocka_unit_test(retarget_clamps_by_four_both_ways),
        cmocka_unit_test(difficulty_follows_the_observed_block_rate),
        cmocka_unit_test(subsidy_halves_every_210000_blocks),
        cmocka_unit_test(price_volatility_is_realistic_and_clusters),
        cmocka_unit_test(outage_odds_fall_with_the_tier),
        cmocka_unit_test(demand_peaks_at_six_pm_local),
        cmocka_unit_test(events_respect_their_conditions),
        cmocka_unit_test(heat_raises_cooling_load_and_texas_prices),
        cmocka_unit_test(snapshot_round_trip_keeps_the_hash),
        cmocka_unit_test(admin_shocks_apply_at_the_next_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
