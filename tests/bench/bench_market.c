/*
 * bench_market.c - matching 100,000 orders in one tick.
 *
 * Builds a market, gives 10,000 companies wallets, and times market_step()
 * on one tick carrying N new orders on one instrument (default 100,000:
 * 90 % limit orders within +-0.5 % of the fair value, 10 % market orders;
 * each company on one side, so none is a self-trade).  The timed step does
 * everything a tick does: sorting and validating the intents, reserving
 * funds, the batch auction against the makers' book and each other, the
 * settlement legs, funding and liquidation checks, statistics.  Then times
 * a tick with the surviving resting orders and no new intents, the state
 * hash and the JSON snapshot.  Prints the best and median of R runs.
 *
 *   bench_market [orders] [runs] [spot|perp]
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tickd/market.h"

#define ACCOUNTS 10000

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void make_intents(struct market_intent *in, int n, const char *instr, int64_t fair,
                         const struct market_spec *spec)
{
    int64_t tick = spec->tick, lot = spec->lot, min_qty = spec->min_qty;
    uint64_t s = 12345;

    for (int i = 0; i < n; i++) {
        struct market_intent *x = &in[i];
        int64_t acct = 1 + (int64_t)(lcg(&s) % ACCOUNTS);
        bool market = lcg(&s) % 10 == 0;
        int64_t off = (int64_t)(lcg(&s) % 1001) - 500; /* steps of 0.001 %, +-0.5 % */

        *x = (struct market_intent){.id = i + 1, .account = acct, .kind = MARKET_INTENT_TRADE};
        snprintf(x->req.instrument, sizeof(x->req.instrument), "%s", instr);
        x->req.side = acct % 2 ? MARKET_BUY : MARKET_SELL;
        x->req.qty = min_qty + lot * (int64_t)(lcg(&s) % 20);
        x->req.type = market ? MARKET_ORDER_MARKET : MARKET_ORDER_LIMIT;
        x->req.tif = market ? MARKET_IOC : MARKET_GTC;
        x->req.leverage = strcmp(instr, "BTC-PERP") == 0 ? 5 : 0;
        if (!market)
            x->req.limit_price = (fair + fair / 100000 * off) / tick * tick;
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000, runs = argc > 2 ? atoi(argv[2]) : 5;
    const char *kind = argc > 3 ? argv[3] : "spot";
    const char *instr = strcmp(kind, "perp") == 0 ? "BTC-PERP" : "BTC-USD";
    int64_t fair = 60000000000LL;
    struct market_params p;
    struct market_intent *in = malloc(sizeof(*in) * (size_t)n);
    double *t1 = calloc((size_t)runs, sizeof(double)), *t2 = calloc((size_t)runs, sizeof(double));
    double *th = calloc((size_t)runs, sizeof(double)), *tj = calloc((size_t)runs, sizeof(double));
    int fills = 0, ok = 0, resting = 0, legs = 0;
    /* tickd keeps one output buffer for the life of the world: reuse it. */
    struct market_out out = {0};

    if (!in || !t1 || !t2 || !th || !tj || n <= 0 || runs <= 0)
        return 1;
    market_params_default(&p);
    make_intents(in, n, instr, fair,
                 market_spec_of(&p, strcmp(kind, "perp") == 0 ? MARKET_PERP : MARKET_SPOT));
    for (int r = 0; r < runs; r++) {
        struct market_state st;
        struct market_env e = {.tick = 1,
                               .game_s = 3600,
                               .fair = fair,
                               .vol_ppm = 600000,
                               .stress_ppm = 1000000,
                               .seed = 7};
        struct bt_err err;
        crypto_generichash_state h;
        unsigned char digest[32];
        struct json_object *j;
        double t;

        market_init(&st, &p);
        for (int a = 1; a <= ACCOUNTS; a++)
            market_wallet_set(&st, a, 100000000000000LL, 100000000000LL);
        e.tick = 1;
        market_step(&st, &e, NULL, 0, &out, &err); /* lists the options */
        e.tick = 2;
        t = now_ms();
        if (market_step(&st, &e, in, n, &out, &err) != BT_OK)
            return 1;
        t1[r] = now_ms() - t;
        fills = out.n_fills;
        legs = out.n_transfers;
        ok = n - out.n_results;
        resting = st.n_ord;
        e.tick = 3;
        e.fair = fair + fair / 1000;
        t = now_ms();
        market_step(&st, &e, NULL, 0, &out, &err);
        t2[r] = now_ms() - t;
        t = now_ms();
        crypto_generichash_init(&h, NULL, 0, sizeof(digest));
        market_hash(&st, &h);
        crypto_generichash_final(&h, digest, sizeof(digest));
        th[r] = now_ms() - t;
        t = now_ms();
        j = market_to_json(&st);
        json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
        json_object_put(j);
        tj[r] = now_ms() - t;
        market_free(&st);
    }
    market_out_free(&out);
    qsort(t1, (size_t)runs, sizeof(double), cmp_d);
    qsort(t2, (size_t)runs, sizeof(double), cmp_d);
    qsort(th, (size_t)runs, sizeof(double), cmp_d);
    qsort(tj, (size_t)runs, sizeof(double), cmp_d);
    printf("market bench: %d orders on %s, %d accounts, %d runs\n", n, instr, ACCOUNTS, runs);
    printf("  accepted %d, fills %d (incl. makers), ledger legs %d, resting after %d\n", ok, fills,
           legs, resting);
    printf("  tick with %d new orders  best %.1f ms  median %.1f ms\n", n, t1[0], t1[runs / 2]);
    printf("  next tick (resting only) best %.1f ms  median %.1f ms\n", t2[0], t2[runs / 2]);
    printf("  state hash               best %.1f ms  median %.1f ms\n", th[0], th[runs / 2]);
    printf("  JSON snapshot            best %.1f ms  median %.1f ms\n", tj[0], tj[runs / 2]);
    free(in);
    free(t1);
    free(t2);
    free(th);
    free(tj);
    return 0;
}
