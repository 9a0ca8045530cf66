/*
 * replay.h - recomputing a world's ticks from a full snapshot and the
 * recorded intents, and comparing every tick's hashes with the record.
 *
 *   tickd replay --world W --from SNAPSHOT_TICK --to TICK
 *   tickd verify --world W [--from SNAPSHOT_TICK] [--to TICK]
 *
 * verify defaults to the earliest full snapshot and the last committed
 * tick, and also checks the ledger invariants in PostgreSQL and, when it
 * reached the last tick, that the state tickd would load from the tables
 * hashes to the replayed state.
 */
#ifndef BT_REPLAY_H
#define BT_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "db.h"

struct replay_opts {
    int64_t world;
    int64_t from; /* -1 = earliest full snapshot */
    int64_t to;   /* -1 = last committed tick */
    bool verify;  /* the extra checks of `tickd verify` */
};

/* Returns 0 when everything matched, 1 on a divergence (reported on out),
 * 2 on an error (no snapshot, database down). */
int replay_run(struct db *db, const struct replay_opts *o, FILE *out);

#endif
