/*
 * test_db.c - the server-free parts of lib/db.c: reading result cells
 * (NULL-safe) from a result built in memory, and a database that cannot be
 * reached turning into a 503 with Retry-After, never a 500 or a hang.
 * Queries against a real server are covered by the integration suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "testutil.h"

static void cells_are_read_null_safely(void **state)
{
    PGresAttDesc attrs[3] = {
        {.name = (char *)"s", .format = 0},
        {.name = (char *)"n", .format = 0},
        {.name = (char *)"b", .format = 0},
    };
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

    (void)state;
    assert_non_null(r);
    assert_true(PQsetResultAttrs(r, 3, attrs));
    /* row 0: values; row 1: SQL NULLs (len -1) */
    assert_true(PQsetvalue(r, 0, 0, (char *)"hello", 5));
    assert_true(PQsetvalue(r, 0, 1, (char *)"-9007199254740993", 17));
    assert_true(PQsetvalue(r, 0, 2, (char *)"t", 1));
    assert_true(PQsetvalue(r, 1, 0, NULL, -1));
    assert_true(PQsetvalue(r, 1, 1, NULL, -1));
    assert_true(PQsetvalue(r, 1, 2, NULL, -1));
    assert_true(PQsetvalue(r, 2, 0, (char *)"", 0));
    assert_true(PQsetvalue(r, 2, 1, (char *)"0", 1));
    assert_true(PQsetvalue(r, 2, 2, (char *)"f", 1));
    assert_string_equal(db_str(r, 0, 0), "hello");
    assert_true(db_i64(r, 0, 1) == -9007199254740993LL); /* beyond double precision */
    assert_true(db_bool(r, 0, 2));
    assert_null(db_str(r, 1, 0));
    assert_int_equal(db_i64(r, 1, 1), 0);
    assert_false(db_bool(r, 1, 2));
    assert_string_equal(db_str(r, 2, 0), ""); /* empty string is not NULL */
    assert_false(db_bool(r, 2, 2));
    PQclear(r);
}

DB_STMT(q_one, "SELECT $1::int");

static void unreachable_database_is_503(void **state)
{
    char dsn[128];
    struct db db;
    struct bt_err e;
    struct arena a;

    (void)state;
    snprintf(dsn, sizeof(dsn), "host=127.0.0.1 port=%d dbname=x user=x", closed_port());
    err_clear(&e);
    assert_int_equal(db_open(&db, dsn, 1000, &e), BT_ERR);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.type, "unavailable");
    assert_true(e.retry_after > 0);
    assert_non_null(strstr(db.dsn, "connect_timeout=2")); /* a down server cannot stall us */
    assert_null(strstr(e.detail, "127.0.0.1"));           /* the client learns nothing internal */
    assert_non_null(strstr(e.internal, "postgres connect"));
    /* the struct stays usable: each statement retries the connection */
    arena_init(&a, 0);
    err_clear(&e);
    assert_null(db_exec(&db, &a, &q_one, 1, (const char *[]){"1"}, &e));
    assert_int_equal(e.status, 503);
    assert_false(db_ping(&db));
    err_clear(&e);
    assert_int_equal(db_begin(&db, &e), BT_ERR);
    assert_int_equal(e.status, 503);
    db_rollback(&db); /* best effort, no crash without a connection */
    db_close(&db);
    arena_free(&a);
}

static void overlong_dsn_is_refused(void **state)
{
    char dsn[700];
    struct db db;
    struct bt_err e;

    (void)state;
    memset(dsn, 'a', sizeof(dsn) - 1);
    dsn[sizeof(dsn) - 1] = '\0';
    err_clear(&e);
    assert_int_equal(db_open(&db, dsn, 1000, &e), BT_ERR);
    assert_int_equal(e.status, 500);
    assert_non_null(strstr(e.internal, "too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cells_are_read_null_safely),
        cmocka_unit_test(unreachable_database_is_503),
        cmocka_unit_test(overlong_dsn_is_refused),
    };
    return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
