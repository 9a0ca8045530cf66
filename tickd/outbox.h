/*
 * outbox.h - publishing after the commit, off the tick thread.
 *
 * The tick builds every message of a committed tick into one batch and
 * hands it to the outbox; a publisher thread (its own Nchan connection)
 * sends the batches in order, so the messages of a channel arrive in the
 * order they were built, and the tick does not wait for nginx.  Nothing
 * enters the outbox before its tick committed (tick.c), so nothing is ever
 * published for a tick that did not happen.
 *
 * Bounded: when the unsent messages of queued batches exceed
 * OUTBOX_MAX_BYTES, the oldest queued batch (never the one being sent) is
 * dropped whole and counted in bt_publish_dropped_total; messages carry
 * their tick, so a client sees the gap and re-reads its state.
 */
#ifndef BT_OUTBOX_H
#define BT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "metrics.h"

#define OUTBOX_MAX_BYTES (256u << 20) /* unsent message bytes kept */

struct outbox;
struct outbox_batch;

/* Starts the publisher thread with its own connection to base_url (the
 * Nchan publisher).  NULL with err filled on failure. */
struct outbox *outbox_start(const char *base_url, long timeout_ms, struct metrics *m,
                            struct bt_err *err);
/* Sends what is queued (for at most drain_ms), stops the thread, frees. */
void outbox_stop(struct outbox *ob, int drain_ms);

/* An empty batch (NULL on out of memory). */
struct outbox_batch *outbox_batch_new(void);
/* Appends a copy of one message (BT_ERR on out of memory: it is dropped). */
int outbox_add(struct outbox_batch *b, const char *channel, const char *event, const char *body,
               size_t len);
/* Queues the batch for sending; takes ownership (NULL ob: just frees it). */
void outbox_push(struct outbox *ob, struct outbox_batch *b);
void outbox_batch_free(struct outbox_batch *b);

#endif
