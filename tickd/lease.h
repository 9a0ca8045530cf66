/*
 * lease.h - world ownership among several tickd processes (Redis).
 *
 * A world is ticked by the holder of its lease, <prefix>lease:world:<id>
 * = "<tickd id>|<token>", which expires unless renewed (every assignment
 * pass, several times per interval).  Taking a free lease INCRs the
 * world's fencing counter <prefix>fence:world:<id>; the tick transaction
 * stores that token in worlds.fence and refuses to commit with a smaller
 * one, so a paused or partitioned former owner can never commit after a
 * successor did.  Live tickd processes announce themselves in the sorted
 * set <prefix>tickds (score = expiry), so each can take its fair share.
 */
#ifndef BT_LEASE_H
#define BT_LEASE_H

#include <stdint.h>
#include "arena.h"
#include "err.h"
#include "rds.h"

/* Acquires or renews the lease of world for `me`.  *token is the fencing
 * token while held, 0 when another process holds it. */
int lease_acquire(struct rds *r, struct arena *a, int64_t world, const char *me, int ttl_ms,
                  int64_t *token, struct bt_err *err);

/* Gives the lease up if `me` holds it (graceful stop, rebalancing). */
int lease_release(struct rds *r, struct arena *a, int64_t world, const char *me,
                  struct bt_err *err);

/* Raises the fencing counter to at least min (after Redis lost it). */
int lease_raise_fence(struct rds *r, struct arena *a, int64_t world, int64_t min,
                      struct bt_err *err);

/* Announces `me` alive for ttl_ms; *live = number of live tickd processes. */
int lease_heartbeat(struct rds *r, struct arena *a, const char *me, int ttl_ms, int *live,
                    struct bt_err *err);

/* Removes `me` from the live set (graceful stop). */
int lease_leave(struct rds *r, struct arena *a, const char *me, struct bt_err *err);

#endif
