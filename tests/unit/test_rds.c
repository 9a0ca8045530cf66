/*
 * test_rds.c - the server-free parts of lib/rds.c: key prefixing, and a
 * Redis that cannot be reached turning into a 503 with Retry-After.
 * Commands against a real server are covered by the integration suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rds.h"
#include "testutil.h"

static void keys_carry_the_namespace(void **state)
{
    struct rds r;
    struct arena a;

    (void)state;
    memset(&r, 0, sizeof(r));
    snprintf(r.prefix, sizeof(r.prefix), "bt:test:");
    arena_init(&a, 0);
    assert_string_equal(rds_key(&r, &a, "rl:%s:u%d", "auth", 42), "bt:test:rl:auth:u42");
    r.prefix[0] = '\0';
    assert_string_equal(rds_key(&r, &a, "banned"), "banned");
    arena_free(&a);
}

static void unreachable_redis_is_503(void **state)
{
    struct rds r;
    struct bt_err e;
    struct arena a;
    const char *argv[] = {"GET", "k"};

    (void)state;
    err_clear(&e);
    assert_int_equal(rds_open(&r, "127.0.0.1", closed_port(), NULL, 200, "bt:", &e), BT_ERR);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.type, "unavailable");
    assert_true(e.retry_after > 0);
    assert_false(rds_ping(&r));
    arena_init(&a, 0);
    err_clear(&e);
    assert_null(rds_cmd(&r, &a, &e, 2, argv, NULL)); /* retries the connection, still down */
    assert_int_equal(e.status, 503);
    rds_close(&r);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_carry_the_namespace),
        cmocka_unit_test(unreachable_redis_is_503),
    };
    return cmocka_run_group_tests_name("rds", tests, NULL, NULL);
}
