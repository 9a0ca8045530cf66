/*
 * rng.c - see rng.h.  The key is folded into one 64-bit word with the
 * SplitMix64 finaliser between components (so (tick 1, entity 2) and
 * (tick 2, entity 1) differ), then the draw index is mixed in last.
 *
 * Floating-point helpers use only IEEE-754 basic operations and libm's
 * log/sqrt/cos/exp, which are deterministic for a given build; results fed
 * back into state are rounded to integers by the callers.
 */
#include "rng.h"

#include <math.h>

uint64_t rng_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t rng_u64(const struct rng_key *k, uint32_t draw)
{
    uint64_t h = rng_mix(k->seed);

    h = rng_mix(h ^ (uint64_t)k->tick);
    h = rng_mix(h ^ k->stream);
    h = rng_mix(h ^ k->entity);
    return rng_mix(h ^ ((uint64_t)draw << 1 | 1));
}

double rng_unit(const struct rng_key *k, uint32_t draw)
{
    return (double)(rng_u64(k, draw) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t rng_below(const struct rng_key *k, uint32_t draw, uint64_t n)
{
    /* Lemire's multiply-shift with rejection, drawing further values of the
     * same key when rejected (draw index advanced by 2^16 per retry). */
    uint32_t attempt;

    for (attempt = 0; attempt < 64; attempt++) {
        unsigned __int128 m = (unsigned __int128)rng_u64(k, draw + attempt * 65536u) * n;
        uint64_t lo = (uint64_t)m;
        if (lo >= n || lo >= (0 - n) % n)
            return (uint64_t)(m >> 64);
    }
    return rng_u64(k, draw) % n;
}

double rng_normal(const struct rng_key *k, uint32_t pair)
{
    double u1 = rng_unit(k, 2 * pair), u2 = rng_unit(k, 2 * pair + 1);

    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t rng_poisson(const struct rng_key *k, uint32_t first, double lambda)
{
    if (lambda <= 0)
        return 0;
    if (lambda < 30) {
        /* Knuth: multiply uniforms until below e^-lambda. */
        double limit = exp(-lambda), p = 1.0;
        uint64_t n = 0;
        uint32_t d = first;
        for (;;) {
            p *= rng_unit(k, d++);
            if (p <= limit || n > 1000)
                return n;
            n++;
        }
    }
    /* Large means: normal approximation with continuity correction. */
    {
        double x = lambda + sqrt(lambda) * rng_normal(k, first / 2 + 1) + 0.5;
        return x < 0 ? 0 : (uint64_t)x;
    }
}

int rng_chance_ppm(const struct rng_key *k, uint32_t draw, int64_t ppm)
{
    if (ppm <= 0)
        return 0;
    if (ppm >= 1000000)
        return 1;
    return rng_below(k, draw, 1000000) < (uint64_t)ppm;
}
