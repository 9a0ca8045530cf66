/*
 * metrics.h - Prometheus counters, gauges and histograms shared between
 * processes through small memory-mapped files.
 *
 * Design: every process owns one file, <dir>/<name>.metrics (name is e.g.
 * "auth.3" for worker 3 of the auth pool, or "tickd.1").  It is the only
 * writer of that file, so updates are lock-free atomic adds.  The exporter
 * (GET /metrics, served by the admin service) maps every file in the
 * directory read-only and sums series with the same key.  A restarted
 * worker reopens its slot's file and continues its counters, so they stay
 * monotonic; nothing here needs Redis or PostgreSQL, so metrics keep working
 * when those are down - exactly when they are needed.
 *
 * Series are registered lazily and never removed; a file holds at most
 * METRICS_MAX_SERIES (one of them is bt_metrics_dropped_series, present in
 * every file).  Registration beyond that, or with a name longer than the
 * record holds, returns METRICS_NONE, the updates become no-ops, and the
 * refusal is counted in bt_metrics_dropped_series.
 */
#ifndef BT_METRICS_H
#define BT_METRICS_H

#include <stdint.h>
#include "buf.h"
#include "err.h"

#define METRICS_MAX_SERIES 4096
#define METRICS_NONE       (-1)
#define METRICS_NBUCKETS   14 /* including +Inf */

struct metrics;

struct metrics_hist {
    int first; /* id of the first bucket series; METRICS_NONE when unregistered */
};

/* Opens (creating or reusing) <dir>/<name>.metrics.  Returns NULL on error. */
struct metrics *metrics_open(const char *dir, const char *name, struct bt_err *err);
void metrics_close(struct metrics *m);

/* Registers (or finds) a series.  labels is the inside of {...}, e.g.
 * "service=\"auth\",route=\"POST /auth/login\"" or "" for none. */
int metrics_counter(struct metrics *m, const char *name, const char *labels);
int metrics_gauge(struct metrics *m, const char *name, const char *labels);
int metrics_histogram(struct metrics *m, const char *name, const char *labels,
                      struct metrics_hist *h);

void metrics_add(struct metrics *m, int id, uint64_t n);
void metrics_set(struct metrics *m, int id, int64_t v);
/* Records one observation, in microseconds. */
void metrics_observe(struct metrics *m, const struct metrics_hist *h, uint64_t usec);

/* Renders the text exposition format (version 0.0.4) of every file in dir. */
int metrics_render(const char *dir, struct buf *out);

#endif
