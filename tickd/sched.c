/*
 * sched.c - absolute-deadline tick scheduling (see sched.h).
 */
#include "sched.h"

#include <errno.h>
#include <time.h>

int64_t sched_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sched_init(struct sched *s, int64_t now_ns, int64_t interval_ns)
{
    s->interval_ns = interval_ns;
    s->next_ns = now_ns + interval_ns;
    s->caught_up_once = false;
    s->overruns = 0;
    s->skipped = 0;
}

void sched_set_interval(struct sched *s, int64_t now_ns, int64_t interval_ns)
{
    if (interval_ns == s->interval_ns)
        return;
    s->interval_ns = interval_ns;
    if (s->next_ns > now_ns + interval_ns)
        s->next_ns = now_ns + interval_ns;
}

void sched_advance(struct sched *s, int64_t now_ns)
{
    int64_t next = s->next_ns + s->interval_ns;

    if (now_ns <= next) {
        s->next_ns = next;
        s->caught_up_once = false;
        return;
    }
    s->overruns++;
    if (!s->caught_up_once && now_ns - next <= s->interval_ns) {
        /* Behind by less than one interval: run the next tick now. */
        s->next_ns = next;
        s->caught_up_once = true;
        return;
    }
    /* Still behind: re-anchor instead of bursting through the backlog. */
    s->skipped += (uint64_t)((now_ns - next) / s->interval_ns) + 1;
    s->next_ns = now_ns + s->interval_ns;
    s->caught_up_once = false;
}

bool sched_wait(const struct sched *s)
{
    struct timespec ts = {(time_t)(s->next_ns / 1000000000), (long)(s->next_ns % 1000000000)};

    return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == 0;
}
