/*
 * test_rng.c - counter-based randomness: pinned values (replays must draw
 * the same numbers forever), independence of every key component and of
 * streams, distribution sanity with fixed seeds (deterministic, so never
 * flaky), and rng_below's range and lack of modulo bias.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "rng.h"

#define N 100000

static const struct rng_key K = {12345, 678, RNG_PRICE, 9};

static void values_are_pinned(void **state)
{
    (void)state;
    /* SplitMix64's published first output for state 0 */
    assert_int_equal(rng_mix(0), 0xe220a8397b1dcdafull);
    /* Changing these breaks every stored replay: do it only with a new stream. */
    assert_int_equal(rng_u64(&K, 0), 0x5957cd53d3a02965ull);
    assert_int_equal(rng_u64(&K, 1), 0x6b101d33ccaf8cd0ull);
}

static void same_key_same_numbers(void **state)
{
    struct rng_key copy = K;

    (void)state;
    for (uint32_t d = 0; d < 1000; d++) {
        assert_int_equal(rng_u64(&K, d), rng_u64(&copy, d));
        assert_true(rng_unit(&K, d) == rng_unit(&copy, d));
        assert_true(rng_normal(&K, d) == rng_normal(&copy, d));
    }
    /* order of evaluation does not matter: draw 500 is draw 500 */
    assert_int_equal(rng_u64(&K, 500), rng_u64(&copy, 500));
}

static void every_component_changes_the_draw(void **state)
{
    struct rng_key k;
    uint64_t base = rng_u64(&K, 0);

    (void)state;
    k = K;
    k.seed++;
    assert_int_not_equal(rng_u64(&k, 0), base);
    k = K;
    k.tick++;
    assert_int_not_equal(rng_u64(&k, 0), base);
    k = K;
    k.stream++;
    assert_int_not_equal(rng_u64(&k, 0), base);
    k = K;
    k.entity++;
    assert_int_not_equal(rng_u64(&k, 0), base);
    assert_int_not_equal(rng_u64(&K, 1), base);
    /* components are not interchangeable */
    {
        struct rng_key a = {1, 1, RNG_WEAR, 2}, b = {1, 2, RNG_WEAR, 1};
        struct rng_key c = {2, 1, RNG_WEAR, 1}, d = {1, 1, RNG_WEAR, 1};
        assert_int_not_equal(rng_u64(&a, 0), rng_u64(&b, 0));
        assert_int_not_equal(rng_u64(&c, 0), rng_u64(&d, 1));
    }
}

/* Pearson correlation of rng_unit over n paired draws. */
static double correlation(const struct rng_key *a, const struct rng_key *b, uint32_t n)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;

    for (uint32_t i = 0; i < n; i++) {
        double x = rng_unit(a, i), y = rng_unit(b, i);
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    return (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
}

static void streams_and_entities_are_uncorrelated(void **state)
{
    struct rng_key a = K, b = K, c = K;

    (void)state;
    b.stream = RNG_JUMP;
    c.entity = K.entity + 1;
    /* |r| of independent uniforms over 1e5 pairs: sd ~ 0.003 */
    assert_true(fabs(correlation(&a, &b, N)) < 0.015);
    assert_true(fabs(correlation(&a, &c, N)) < 0.015);
    /* consecutive ticks of one entity too */
    b = K;
    b.tick = K.tick + 1;
    assert_true(fabs(correlation(&a, &b, N)) < 0.015);
}

static void unit_is_uniform_in_0_1(void **state)
{
    int bins[10] = {0};
    double chi = 0, sum = 0;

    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        double u = rng_unit(&K, i);
        assert_true(u >= 0.0 && u < 1.0);
        bins[(int)(u * 10)]++;
        sum += u;
    }
    for (int i = 0; i < 10; i++)
        chi += (bins[i] - N / 10.0) * (bins[i] - N / 10.0) / (N / 10.0);
    assert_true(chi < 27.88); /* chi-square, 9 d.o.f., p = 0.001 */
    assert_true(fabs(sum / N - 0.5) < 0.005);
}

static void normal_has_mean_0_and_variance_1(void **state)
{
    double s = 0, ss = 0;
    int beyond3 = 0;

    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        double z = rng_normal(&K, i);
        assert_true(isfinite(z));
        s += z;
        ss += z * z;
        beyond3 += fabs(z) > 3;
    }
    assert_true(fabs(s / N) < 0.02);
    assert_true(fabs(ss / N - 1.0) < 0.03);
    assert_true(beyond3 > 150 && beyond3 < 400); /* expected 270 */
}

static void poisson_means_and_variances(void **state)
{
    static const double lambdas[] = {0.2, 3.0, 29.0, 100.0, 5000.0};
    struct rng_key k = K;

    (void)state;
    assert_int_equal(rng_poisson(&K, 0, 0.0), 0);
    assert_int_equal(rng_poisson(&K, 0, -1.0), 0);
    for (size_t j = 0; j < sizeof(lambdas) / sizeof(lambdas[0]); j++) {
        double l = lambdas[j], s = 0, ss = 0;
        const int n = 20000;
        for (int i = 0; i < n; i++) {
            k.entity = (uint64_t)i; /* one draw sequence per entity */
            double x = (double)rng_poisson(&k, 0, l);
            s += x;
            ss += x * x;
        }
        double mean = s / n, var = ss / n - mean * mean;
        /* 5 standard errors of the mean; variance within 10 % */
        if (fabs(mean - l) > 5 * sqrt(l / n) || fabs(var / l - 1) > 0.1)
            fail_msg("poisson(%g): mean %g var %g", l, mean, var);
    }
}

static void chance_ppm_bounds_and_rate(void **state)
{
    int hits = 0;

    (void)state;
    for (uint32_t i = 0; i < 1000; i++) {
        assert_false(rng_chance_ppm(&K, i, 0));
        assert_false(rng_chance_ppm(&K, i, -5));
        assert_true(rng_chance_ppm(&K, i, 1000000));
    }
    for (uint32_t i = 0; i < N; i++)
        hits += rng_chance_ppm(&K, i, 250000);
    assert_true(abs(hits - N / 4) < 700); /* sd ~ 137 */
}

static void below_stays_in_range(void **state)
{
    static const uint64_t ns[] = {1, 2, 3, 7, 1000000, (1ull << 63) + 1, UINT64_MAX};

    (void)state;
    for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++)
        for (uint32_t i = 0; i < 5000; i++)
            assert_true(rng_below(&K, i, ns[j]) < ns[j]);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(rng_below(&K, i, 1), 0);
}

static void below_is_unbiased(void **state)
{
    /* n ~ 2/3 of 2^64: plain modulo would make the lower half of the range
     * come up 2/3 of the time instead of 1/2. */
    const uint64_t n = 0xAAAAAAAAAAAAAAABull;
    int low = 0, counts[3] = {0};
    double chi = 0;

    (void)state;
    for (uint32_t i = 0; i < N; i++)
        low += rng_below(&K, i, n) < n / 2;
    assert_true(abs(low - N / 2) < 1000); /* sd ~ 158 */
    for (uint32_t i = 0; i < N; i++)
        counts[rng_below(&K, i, 3)]++;
    for (int i = 0; i < 3; i++)
        chi += (counts[i] - N / 3.0) * (counts[i] - N / 3.0) / (N / 3.0);
    assert_true(chi < 13.82); /* 2 d.o.f., p = 0.001 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_are_pinned),
        cmocka_unit_test(same_key_same_numbers),
        cmocka_unit_test(every_component_changes_the_draw),
        cmocka_unit_test(streams_and_entities_are_uncorrelated),
        cmocka_unit_test(unit_is_uniform_in_0_1),
        cmocka_unit_test(normal_has_mean_0_and_variance_1),
        cmocka_unit_test(poisson_means_and_variances),
        cmocka_unit_test(chance_ppm_bounds_and_rate),
        cmocka_unit_test(below_stays_in_range),
        cmocka_unit_test(below_is_unbiased),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
