/*
 * rng.h - counter-based deterministic randomness.
 *
 * Every random number in the simulation is a pure function of
 * (world seed, tick, stream, entity id, draw index), hashed with SplitMix64's
 * finaliser.  Results therefore never depend on iteration order, thread
 * count or which process computes what: a region computed on any thread, or
 * a replay months later, draws exactly the same numbers.
 *
 * Streams separate independent uses so that adding draws to one process
 * never shifts another's.  Add new streams at the end; never renumber.
 */
#ifndef BT_RNG_H
#define BT_RNG_H

#include <stdint.h>

enum rng_stream {
    RNG_PRICE = 1,   /* BTC price diffusion */
    RNG_JUMP,        /* price jumps */
    RNG_HASHRATE,    /* rest-of-world hashrate trend */
    RNG_BLOCKS,      /* blocks found per tick */
    RNG_FEES,        /* fee share */
    RNG_ENERGY,      /* regional energy price noise and spikes */
    RNG_OUTAGE,      /* grid outages (entity = region * 8 + tier) */
    RNG_EVENTS,      /* world events */
    RNG_CLIMATE,     /* regional climate drift */
    RNG_WEAR,        /* rig wear (entity = rig batch id) */
    RNG_FAILURE,     /* rig failures (entity = rig batch id) */
    RNG_MARKET,      /* simulated market makers */
    RNG_SEED_DERIVE, /* deriving sub-seeds */
};

struct rng_key {
    uint64_t seed;
    int64_t tick;
    uint32_t stream;
    uint64_t entity;
};

/* The draw-th 64-bit value of a key. */
uint64_t rng_u64(const struct rng_key *k, uint32_t draw);

/* Uniform in [0, 1), 53 bits. */
double rng_unit(const struct rng_key *k, uint32_t draw);

/* Uniform integer in [0, n) without modulo bias (n > 0). */
uint64_t rng_below(const struct rng_key *k, uint32_t draw, uint64_t n);

/* Standard normal (Box-Muller on draws 2*pair and 2*pair+1). */
double rng_normal(const struct rng_key *k, uint32_t pair);

/* Poisson with mean lambda (0 <= lambda <= 1e6), using draws from `first` on. */
uint64_t rng_poisson(const struct rng_key *k, uint32_t first, double lambda);

/* True with probability ppm / 1e6. */
int rng_chance_ppm(const struct rng_key *k, uint32_t draw, int64_t ppm);

/* SplitMix64 finaliser, exposed for hashing small tuples. */
uint64_t rng_mix(uint64_t x);

#endif
