/*
 * sched.h - tick scheduling on absolute monotonic deadlines.
 *
 * Deadlines lie on a grid, start + k * interval, so no drift accumulates:
 * a tick's own duration never shifts the next one.  Policy when a tick
 * overruns (finishes after the next deadline):
 *   - the overrun is counted and the next tick starts at once (catch-up);
 *   - if the engine is still more than one interval behind after that, the
 *     grid is re-anchored at "now" and the missed slots are counted as
 *     skipped instead of being run back to back.
 * So at most one tick ever starts without waiting, and a slow period never
 * turns into a burst of ticks.  Game time advances per tick, not per wall
 * second, so a skipped slot slows the game clock briefly; it never jumps.
 */
#ifndef BT_SCHED_H
#define BT_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct sched {
    int64_t interval_ns;
    int64_t next_ns;     /* deadline of the next tick */
    bool caught_up_once; /* the previous tick already started without waiting */
    uint64_t overruns;   /* ticks that finished after the following deadline */
    uint64_t skipped;    /* grid slots dropped by re-anchoring */
};

int64_t sched_now_ns(void);
void sched_init(struct sched *s, int64_t now_ns, int64_t interval_ns);
/* Changes the interval, keeping the next deadline if it is sooner. */
void sched_set_interval(struct sched *s, int64_t now_ns, int64_t interval_ns);
/* Called when a tick that was due at s->next_ns finished at now_ns:
 * moves the deadline per the policy above. */
void sched_advance(struct sched *s, int64_t now_ns);
/* Sleeps until the deadline; returns early (false) when interrupted. */
bool sched_wait(const struct sched *s);

#endif
