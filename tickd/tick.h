/*
 * tick.h - one tick of one world: the phases and their shared context.
 *
 * A tick runs the phases in order over a struct tick_ctx and persists
 * everything in one PostgreSQL transaction; only after the commit are
 * messages published.  Adding a game feature means adding a phase (or an
 * intent kind), not editing the loop in main.c.
 */
#ifndef BT_TICK_H
#define BT_TICK_H

#include <stdint.h>
#include "arena.h"
#include "db.h"
#include "err.h"
#include "metrics.h"
#include "pub.h"

struct tick_metrics {
    struct metrics_hist total, compute, commit, publish, lateness;
    int ticks, overruns, skipped, failures, current_tick;
};

struct world_model;

struct world {
    int64_t id;
    int64_t tick;        /* last committed tick */
    int tick_ms;
    char name[64];
    uint64_t seed;
    struct world_model *model; /* world processes (tickd/world.h), owned by main.c */
};

struct tick_ctx {
    struct db *db;
    struct pub *pub;
    struct arena *arena; /* per tick, reset after */
    struct metrics *metrics;
    struct tick_metrics *tm;
    struct world *world;
    int threads;         /* region compute threads (BT_TICK_THREADS) */
    int64_t tick;        /* the tick being computed */
    int64_t lateness_us; /* how late this tick started */
    int64_t started_us;
    int64_t compute_us, commit_us, publish_us;
    char time_iso[40];   /* wall-clock time of the commit */
};

void tick_metrics_init(struct tick_metrics *tm, struct metrics *m, int64_t world_id);

/* Runs one tick of ctx->world.  On success the world's tick advanced, was
 * committed, and the tick:update message was published (publishing failures
 * are logged, never undo the commit). */
int tick_run(struct tick_ctx *ctx, struct bt_err *err);

#endif
