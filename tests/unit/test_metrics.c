/*
 * test_metrics.c - mmap-backed series and the Prometheus text exposition:
 * counters and histograms summed across the files of several processes,
 * cumulative buckets, sums in seconds, per-process gauges, counters that
 * survive a restart, and the series cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/bt-metrics-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static struct metrics *open_file(const char *name)
{
    struct bt_err e;
    struct metrics *m;

    err_clear(&e);
    m = metrics_open(dir, name, &e);
    assert_non_null(m);
    return m;
}

static char *render(struct buf *b)
{
    buf_init(b, 1 << 20);
    assert_int_equal(metrics_render(dir, b), BT_OK);
    return b->data ? b->data : (char *)""; /* nothing rendered: nothing allocated */
}

/* Asserts that the exposition has exactly this line. */
static void has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    fail_msg("missing line '%s' in:\n%s", line, text);
}

static void counters_sum_across_processes(void **state)
{
    struct metrics *a = open_file("auth.0"), *b = open_file("auth.1");
    const char *lbl = "service=\"auth\",route=\"POST /auth/login\",status=\"200\"";
    int ia = metrics_counter(a, "bt_http_requests_total", lbl);
    int ib = metrics_counter(b, "bt_http_requests_total", lbl);
    int other = metrics_counter(b, "bt_http_requests_total",
                                "service=\"auth\",route=\"POST /auth/login\",status=\"401\"");
    struct buf out;
    char *text;

    (void)state;
    assert_true(ia >= 0 && ib >= 0 && other >= 0);
    assert_int_equal(metrics_counter(a, "bt_http_requests_total", lbl), ia); /* found again */
    metrics_add(a, ia, 3);
    metrics_add(b, ib, 4);
    metrics_add(b, other, 1);
    text = render(&out);
    has_line(text, "# TYPE bt_http_requests_total counter");
    has_line(text, "bt_http_requests_total{service=\"auth\",route=\"POST /auth/login\","
                   "status=\"200\"} 7");
    has_line(text, "bt_http_requests_total{service=\"auth\",route=\"POST /auth/login\","
                   "status=\"401\"} 1");
    /* one TYPE line per family, however many files hold it */
    assert_null(
        strstr(strstr(text, "# TYPE bt_http_requests_total") + 1, "# TYPE bt_http_requests_total"));
    buf_free(&out);
    metrics_close(a);
    metrics_close(b);
}

static void histograms_are_cumulative_with_sums_in_seconds(void **state)
{
    struct metrics *a = open_file("player.0"), *b = open_file("player.1");
    struct metrics_hist ha, hb;
    struct buf out;
    char *text;

    (void)state;
    assert_true(metrics_histogram(a, "bt_lat_seconds", "route=\"GET /x\"", &ha) >= 0);
    assert_true(metrics_histogram(b, "bt_lat_seconds", "route=\"GET /x\"", &hb) >= 0);
    metrics_observe(a, &ha, 700);     /* 0.7 ms */
    metrics_observe(a, &ha, 1000);    /* exactly on the 1 ms bound: counted in le="0.001" */
    metrics_observe(b, &hb, 3000000); /* 3 s */
    metrics_observe(b, &hb, 9000000); /* 9 s: only +Inf */
    text = render(&out);
    has_line(text, "# TYPE bt_lat_seconds histogram");
    has_line(text, "bt_lat_seconds_bucket{route=\"GET /x\",le=\"0.0005\"} 0");
    has_line(text, "bt_lat_seconds_bucket{route=\"GET /x\",le=\"0.001\"} 2");
    has_line(text, "bt_lat_seconds_bucket{route=\"GET /x\",le=\"2.5\"} 2");
    has_line(text, "bt_lat_seconds_bucket{route=\"GET /x\",le=\"5\"} 3");
    has_line(text, "bt_lat_seconds_bucket{route=\"GET /x\",le=\"+Inf\"} 4");
    has_line(text, "bt_lat_seconds_sum{route=\"GET /x\"} 12.001700");
    has_line(text, "bt_lat_seconds_count{route=\"GET /x\"} 4");
    /* buckets come in increasing order, before sum and count */
    assert_true(strstr(text, "le=\"0.0005\"") < strstr(text, "le=\"+Inf\""));
    assert_true(strstr(text, "le=\"+Inf\"") < strstr(text, "bt_lat_seconds_sum"));
    buf_free(&out);
    metrics_close(a);
    metrics_close(b);
}

static void gauges_are_per_process(void **state)
{
    struct metrics *a = open_file("tickd.1"), *b = open_file("tickd.2");
    struct buf out;
    char *text;

    (void)state;
    metrics_set(a, metrics_gauge(a, "bt_world_tick", "world=\"1\""), 41);
    metrics_set(b, metrics_gauge(b, "bt_world_tick", "world=\"1\""), -2);
    text = render(&out);
    has_line(text, "# TYPE bt_world_tick gauge");
    has_line(text, "bt_world_tick{world=\"1\",proc=\"tickd.1\"} 41");
    has_line(text, "bt_world_tick{world=\"1\",proc=\"tickd.2\"} -2");
    buf_free(&out);
    metrics_close(a);
    metrics_close(b);
}

static void counters_survive_a_restart(void **state)
{
    struct metrics *m = open_file("admin.0");
    struct buf out;
    char *text;

    (void)state;
    metrics_add(m, metrics_counter(m, "bt_restarts_total", ""), 5);
    metrics_close(m);
    m = open_file("admin.0"); /* the worker restarted in the same slot */
    metrics_add(m, metrics_counter(m, "bt_restarts_total", ""), 1);
    text = render(&out);
    has_line(text, "bt_restarts_total 6");
    buf_free(&out);
    metrics_close(m);
}

static void foreign_files_are_ignored(void **state)
{
    char path[128];
    FILE *f;
    struct buf out;
    char *text;

    (void)state;
    snprintf(path, sizeof(path), "%s/junk.metrics", dir);
    f = fopen(path, "w");
    fputs("not a metrics file", f);
    fclose(f);
    /* a file just created by a starting worker, not yet sized */
    snprintf(path, sizeof(path), "%s/starting.metrics", dir);
    f = fopen(path, "w");
    fclose(f);
    snprintf(path, sizeof(path), "%s/notes.txt", dir);
    f = fopen(path, "w");
    fputs("hello", f);
    fclose(f);
    text = render(&out); /* neither crashes nor shows up */
    assert_string_equal(text, "");
    assert_null(strstr(text, "hello"));
    buf_free(&out);
}

static void missing_directory_renders_a_comment(void **state)
{
    struct buf out;

    (void)state;
    buf_init(&out, 1024);
    assert_int_equal(metrics_render("/nonexistent/bt-metrics", &out), BT_OK);
    assert_string_equal(out.data, "# no metrics yet\n");
    buf_free(&out);
}

static void series_cap_is_enforced_and_counted(void **state)
{
    struct metrics *m = open_file("cap.0");
    struct metrics_hist h;
    char lbl[32];
    struct buf out;
    int id = 0, i;

    (void)state;
    for (i = 0; id != METRICS_NONE; i++) {
        snprintf(lbl, sizeof(lbl), "n=\"%d\"", i);
        id = metrics_counter(m, "bt_many_total", lbl);
        metrics_add(m, id, 1); /* a no-op once refused */
    }
    /* one slot holds bt_metrics_dropped_series itself */
    assert_int_equal(i - 1, METRICS_MAX_SERIES - 1);
    assert_int_equal(metrics_histogram(m, "bt_h", "", &h), METRICS_NONE);
    metrics_observe(m, &h, 10); /* no-op, no crash */
    has_line(render(&out), "bt_metrics_dropped_series 2");
    buf_free(&out);
    metrics_close(m);
}

static void overlong_names_are_refused_and_counted(void **state)
{
    struct metrics *m = open_file("long.0");
    char lbl[400];
    struct buf out;
    char *text;

    (void)state;
    memset(lbl, 'x', sizeof(lbl) - 1);
    lbl[sizeof(lbl) - 1] = '\0';
    assert_int_equal(metrics_counter(m, "bt_long_total", lbl), METRICS_NONE);
    text = render(&out);
    has_line(text, "bt_metrics_dropped_series 1");
    assert_null(strstr(text, "bt_long_total")); /* never a truncated series */
    buf_free(&out);
    metrics_close(m);
}

static void null_handles_are_no_ops(void **state)
{
    struct metrics_hist h;

    (void)state;
    assert_int_equal(metrics_counter(NULL, "x", ""), METRICS_NONE);
    assert_int_equal(metrics_gauge(NULL, "x", ""), METRICS_NONE);
    assert_int_equal(metrics_histogram(NULL, "x", "", &h), METRICS_NONE);
    metrics_add(NULL, 0, 1);
    metrics_set(NULL, 0, 1);
    metrics_observe(NULL, &h, 1);
    metrics_close(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(counters_sum_across_processes),
        T(histograms_are_cumulative_with_sums_in_seconds),
        T(gauges_are_per_process),
        T(counters_survive_a_restart),
        T(foreign_files_are_ignored),
        T(missing_directory_renders_a_comment),
        T(series_cap_is_enforced_and_counted),
        T(overlong_names_are_refused_and_counted),
        T(null_handles_are_no_ops),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
