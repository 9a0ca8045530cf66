/*
 * test_ratelimit.c - the server-free parts of lib/ratelimit.c: unlimited
 * routes never touch Redis, the 429 problem carries Retry-After, and a
 * limited route with Redis down fails closed with a 503 (never lets the
 * request through unaccounted, never a 500).  Counting against a real
 * Redis is covered by the integration suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"
#include "testutil.h"

static struct rds down;
static struct arena arena;

static int setup(void **state)
{
    struct bt_err e;

    (void)state;
    err_clear(&e);
    rds_open(&down, "127.0.0.1", closed_port(), NULL, 200,
             "bt:", &e); /* fails: that is the point */
    arena_init(&arena, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rds_close(&down);
    arena_free(&arena);
    return 0;
}

static void unlimited_never_touches_redis(void **state)
{
    struct ratelimit_result res;
    struct bt_err e;

    (void)state;
    err_clear(&e);
    /* Redis is down: success proves no round trip was attempted */
    assert_int_equal(ratelimit_hit(&down, &arena, "bt:rl:x", 0, 60, &res, &e), BT_OK);
    assert_true(res.allowed);
    assert_int_equal(ratelimit_hit(&down, &arena, "bt:rl:x", -1, 60, &res, &e), BT_OK);
    assert_true(res.allowed);
    assert_false(err_is_set(&e));
}

static void limited_with_redis_down_is_503(void **state)
{
    struct ratelimit_result res;
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(ratelimit_hit(&down, &arena, "bt:rl:x", 10, 60, &res, &e), BT_ERR);
    assert_int_equal(e.status, 503);
    err_clear(&e);
    assert_int_equal(ratelimit_peek(&down, &arena, "bt:rl:x", 10, &res, &e), BT_ERR);
    assert_int_equal(e.status, 503);
}

static void limit_error_is_429_with_retry_after(void **state)
{
    struct ratelimit_result res = {.allowed = false, .count = 11, .retry_after = 17};
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(ratelimit_error(&res, &e), BT_ERR);
    assert_int_equal(e.status, 429);
    assert_string_equal(e.type, "rate-limited");
    assert_int_equal(e.retry_after, 17);
    assert_non_null(strstr(e.detail, "retry in 17 s"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unlimited_never_touches_redis),
        cmocka_unit_test(limited_with_redis_down_is_503),
        cmocka_unit_test(limit_error_is_429_with_retry_after),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, setup, teardown);
}
