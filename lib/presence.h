/*
 * presence.h - which companies have a live subscriber.
 *
 * tickd builds a player:update for every company whose state changed in a
 * tick; with a hundred thousand mining companies that is most of them, and
 * building and sending what nobody receives was most of a tick's publish
 * time.  So the live authorizer (cgi/event/realtime.c) marks a company
 * present when one of its players subscribes, until
 * now + BT_LIVE_PRESENCE (longer than a subscriber connection lasts plus
 * the time a reconnecting client can still resume from the channel
 * buffer), and tickd publishes player:update and alerts only to present
 * companies.  One sorted set per world: member = company id, score = the
 * wall-clock millisecond the presence ends.  A Redis that lost its data
 * (restart without persistence, flush) loses presence too: see *known.
 */
#ifndef BT_PRESENCE_H
#define BT_PRESENCE_H

#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "err.h"
#include "rds.h"

/* The wall-clock time in ms (the scores' clock; nodes keep NTP time). */
int64_t presence_now_ms(void);

/* Marks the company of the world present until until_ms (never shortens). */
int presence_mark(struct rds *r, struct arena *a, int64_t world, int64_t company, int64_t until_ms,
                  struct bt_err *err);

/* The companies of the world present at now_ms, sorted, into *ids (grown
 * with realloc; *cap its capacity) and *n; expired members are removed.
 * *known is false while presence is younger than window_ms (the presence
 * time, BT_LIVE_PRESENCE): after a first start or a Redis that lost its
 * data, players still connected from before are in no set until they
 * reconnect, which the subscriber timeout makes them do within the window,
 * so until then every company must be published to.  Presence's age is the
 * key live:presence:since (set when missing). */
int presence_online(struct rds *r, struct arena *a, int64_t world, int64_t now_ms,
                    int64_t window_ms, int64_t **ids, int *n, int *cap, bool *known,
                    struct bt_err *err);

/* Whether company is in the sorted ids. */
bool presence_has(const int64_t *ids, int n, int64_t company);

#endif
