/*
 * test_sched.c - tickd's absolute-deadline scheduler, driven by an injected
 * clock (every sched_* call but sched_wait takes "now"): deadlines stay on
 * the grid whatever the ticks cost, an overrun is counted and caught up
 * once, a longer stall re-anchors without a burst, interval changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../tickd/sched.h"

#define MS 1000000LL
#define T0 (1000 * MS)

static void deadlines_stay_on_the_grid(void **state)
{
    struct sched s;

    (void)state;
    sched_init(&s, T0, 500 * MS);
    assert_int_equal(s.next_ns, T0 + 500 * MS);
    /* ticks of varying cost, each finishing before the next deadline */
    for (int k = 1; k <= 1000; k++) {
        int64_t cost = (k * 37 % 450) * MS; /* 0..449 ms */
        sched_advance(&s, s.next_ns + cost);
        assert_int_equal(s.next_ns, T0 + (int64_t)(k + 1) * 500 * MS); /* no drift */
    }
    assert_int_equal(s.overruns, 0);
    assert_int_equal(s.skipped, 0);
    /* finishing exactly on the next deadline is still on time */
    sched_advance(&s, s.next_ns + 500 * MS);
    assert_int_equal(s.overruns, 0);
}

static void short_overrun_is_caught_up_once(void **state)
{
    struct sched s;
    int64_t due;

    (void)state;
    sched_init(&s, 0, 100 * MS);
    due = s.next_ns;                   /* 100 */
    sched_advance(&s, due + 150 * MS); /* finished at 250, after the 200 deadline */
    assert_int_equal(s.overruns, 1);
    assert_int_equal(s.next_ns, 200 * MS); /* already due: runs at once, late by 50 */
    assert_int_equal(s.skipped, 0);
    sched_advance(&s, 260 * MS);           /* the catch-up tick was quick */
    assert_int_equal(s.next_ns, 300 * MS); /* back on the original grid */
    assert_int_equal(s.overruns, 1);
}

static void long_stall_reanchors_and_counts_skipped_slots(void **state)
{
    struct sched s;

    (void)state;
    sched_init(&s, 0, 100 * MS);
    sched_advance(&s, 1000 * MS); /* tick due at 100 finished at 1000 */
    assert_int_equal(s.overruns, 1);
    assert_int_equal(s.skipped, 9);         /* slots 200, 300, ..., 1000 */
    assert_int_equal(s.next_ns, 1100 * MS); /* waits a full interval: no burst */
    sched_advance(&s, 1120 * MS);
    assert_int_equal(s.next_ns, 1200 * MS);
}

/* Simulates ticks costing `cost` each; returns the longest run of ticks
 * that started without waiting, and checks the rate never exceeds 1/I. */
static int simulate(int64_t interval, int64_t cost, int ticks, struct sched *s)
{
    int64_t now = 0, prev_start = -1;
    int run = 0, longest = 0;

    sched_init(s, now, interval);
    for (int i = 0; i < ticks; i++) {
        int64_t start = s->next_ns > now ? s->next_ns : now;
        run = start == now && i > 0 ? run + 1 : 0;
        if (run > longest)
            longest = run;
        if (prev_start >= 0 && start - prev_start < cost)
            fail_msg("tick %d started %lld ns after the previous one", i,
                     (long long)(start - prev_start));
        prev_start = start;
        now = start + cost;
        sched_advance(s, now);
    }
    return longest;
}

static void persistent_overload_never_bursts(void **state)
{
    struct sched s;

    (void)state;
    /* every tick costs 1.5 intervals */
    assert_true(simulate(100 * MS, 150 * MS, 1000, &s) <= 1);
    assert_true(s.overruns > 0);
    assert_true(s.skipped > 0);
    /* every tick costs 3 intervals */
    assert_true(simulate(100 * MS, 300 * MS, 1000, &s) <= 1);
    /* a tick just under the interval: never late, never skipped */
    assert_int_equal(simulate(100 * MS, 99 * MS, 1000, &s), 0);
    assert_int_equal(s.overruns, 0);
    assert_int_equal(s.skipped, 0);
}

static void interval_changes(void **state)
{
    struct sched s;

    (void)state;
    sched_init(&s, 0, 5000 * MS);
    sched_set_interval(&s, 100 * MS, 1000 * MS); /* faster: the next tick comes sooner */
    assert_int_equal(s.next_ns, 1100 * MS);
    assert_int_equal(s.interval_ns, 1000 * MS);
    sched_advance(&s, 1150 * MS);
    assert_int_equal(s.next_ns, 2100 * MS);
    sched_set_interval(&s, 1200 * MS, 10000 * MS); /* slower: the pending deadline stays */
    assert_int_equal(s.next_ns, 2100 * MS);
    sched_advance(&s, 2200 * MS);
    assert_int_equal(s.next_ns, 12100 * MS);
    sched_set_interval(&s, 2300 * MS, 10000 * MS); /* unchanged: no effect */
    assert_int_equal(s.next_ns, 12100 * MS);
}

static void real_clock_and_wait(void **state)
{
    struct sched s;
    int64_t a = sched_now_ns(), b;

    (void)state;
    sched_init(&s, a, 2 * MS);
    assert_true(sched_wait(&s));
    b = sched_now_ns();
    assert_true(b >= s.next_ns); /* slept until the absolute deadline */
    s.next_ns = a - 1000 * MS;   /* a past deadline returns at once */
    assert_true(sched_wait(&s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deadlines_stay_on_the_grid),
        cmocka_unit_test(short_overrun_is_caught_up_once),
        cmocka_unit_test(long_stall_reanchors_and_counts_skipped_slots),
        cmocka_unit_test(persistent_overload_never_bursts),
        cmocka_unit_test(interval_changes),
        cmocka_unit_test(real_clock_and_wait),
    };
    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
