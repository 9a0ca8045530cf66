/*
 * bench_mining.c - times mining_step over a large world.
 *
 *   bench_mining [companies] [rigs] [rigs_per_group] [ticks] [threads] [reorder]
 *   (defaults: 100000 1000000 3 50 2 1)
 *
 * Builds `companies` companies, each with one site (every fifth with a
 * second one, every seventh on a contract), spreads `rigs` rigs over them in
 * groups of `rigs_per_group`, gives 5 % of the companies too little cash
 * (throttling), varies heat and outages per tick, and prints the p50 / p99 /
 * max step time over `ticks` ticks.  Rigs are added round-robin over the
 * sites (the worst memory locality); with reorder = 1 the world is then put
 * in (company, site) order, as a loader reading ORDER BY company, site would
 * have it.  Pure computation: no database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../tickd/mining.h"

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static void fail(const struct bt_err *err)
{
    fprintf(stderr, "bench_mining: %s\n", err->internal);
    exit(1);
}

int main(int argc, char **argv)
{
    int ncomp = argc > 1 ? atoi(argv[1]) : 100000;
    int64_t rigs = argc > 2 ? atoll(argv[2]) : 1000000;
    int per = argc > 3 ? atoi(argv[3]) : 3;
    int ticks = argc > 4 ? atoi(argv[4]) : 50;
    int threads = argc > 5 ? atoi(argv[5]) : 2;
    int reorder = argc > 6 ? atoi(argv[6]) : 1;
    struct mining_catalog cat;
    struct mining_state s;
    struct bt_err err;
    int64_t *cash, *times, placed = 0, gid = 1, total_sats = 0, t0;
    int nsites;

    if (ncomp < 1 || rigs < 1 || per < 1 || ticks < 1 || threads < 1) {
        fprintf(stderr, "usage: bench_mining [companies] [rigs] [rigs_per_group] [ticks] "
                        "[threads]\n");
        return 2;
    }
    mining_catalog_default(&cat);
    if (mining_init(&s, &cat, &err) != BT_OK)
        fail(&err);
    t0 = now_ns();
    for (int c = 0; c < ncomp; c++)
        if (mining_company_add(&s, c + 1, 0, &err) < 0)
            fail(&err);
    for (int c = 0; c < ncomp; c++) {
        for (int k = 0; k < (c % 5 == 0 ? 2 : 1); k++) {
            struct mining_site st = {.id = 2 * (int64_t)c + k + 1, .company_id = c + 1};
            st.region = (uint8_t)((c + k) % MINING_NREGIONS);
            st.tier = 3;
            st.cooling = (uint8_t)((c / 3 + k) % MINING_NCOOLING);
            if (c % 7 == 0)
                mining_contract_quote(&cat, c % 14 ? "fixed" : "demand_response", 40000, 10000000,
                                      0, 1000000, &st.contract);
            if (mining_site_add(&s, &st, &err) < 0)
                fail(&err);
        }
    }
    nsites = s.nsites;
    /* Rigs round-robin over the sites, `per` at a time. */
    for (int i = 0; placed < rigs; i = (i + 1) % nsites) {
        const struct mining_site *st = &s.sites[i];
        struct mining_group g = {.id = gid++, .site_id = st->id, .windex0 = -1};
        int m = (int)(gid % 8);
        if (st->cooling != MINING_AIR && gid % 4 == 0)
            m = 8 + (st->cooling == MINING_IMMERSION);
        g.model = (uint16_t)m;
        g.firmware = (uint8_t)(gid % MINING_NFIRMWARE);
        g.count = (int32_t)(rigs - placed < per ? rigs - placed : per);
        placed += g.count;
        if (mining_group_add(&s, &g, &err) < 0)
            fail(&err);
    }
    printf("world: %d companies, %d sites, %d groups, %lld rigs (built in %.0f ms)\n", s.ncompanies,
           s.nsites, s.ngroups, (long long)placed, (now_ns() - t0) / 1e6);
    if (reorder) {
        t0 = now_ns();
        if (mining_reorder(&s, &err) != BT_OK)
            fail(&err);
        printf("reordered by company and site in %.0f ms\n", (now_ns() - t0) / 1e6);
    } else {
        printf("not reordered: groups lie round-robin over the sites (worst locality)\n");
    }

    cash = malloc((size_t)ncomp * sizeof(*cash));
    times = malloc((size_t)ticks * sizeof(*times));
    if (!cash || !times)
        return 1;
    for (int c = 0; c < ncomp; c++)
        cash[c] = c % 20 == 3 ? 1000 : INT64_C(1) << 50;
    for (int t = 1; t <= ticks; t++) {
        struct mining_env e = {.seed = 7,
                               .tick = t,
                               .tick_secs = 600,
                               .net_hash_ghs = 700000000000LL,
                               .blocks_milli = 1000,
                               .reward_sats = 320000000};
        int64_t a;
        for (int r = 0; r < MINING_NREGIONS; r++) {
            e.spot_uusd_kwh[r] = 30000 + 5000 * r + (t % 10 == r ? 200000 : 0);
            e.heat_ppm[r] = 900000 + 50000 * ((t + r) % 6);
        }
        e.outage_ppm[t % MINING_NREGIONS][t % 3] = 300000;
        a = now_ns();
        if (mining_step(&s, &e, cash, threads, &err) != BT_OK)
            fail(&err);
        times[t - 1] = now_ns() - a;
        for (int c = 0; c < ncomp; c++)
            total_sats += s.company_res[c].sats;
    }
    qsort(times, (size_t)ticks, sizeof(*times), cmp_i64);
    printf("mining_step x %d ticks, %d thread(s): p50 %.1f ms  p99 %.1f ms  max %.1f ms  "
           "(first tick includes the index build)\n",
           ticks, threads, times[ticks / 2] / 1e6, times[(ticks * 99) / 100] / 1e6,
           times[ticks - 1] / 1e6);
    printf("mined %lld sat in total, %d failures in the last tick\n", (long long)total_sats,
           s.nfailures);
    free(cash);
    free(times);
    mining_free(&s);
    return 0;
}
