/*
 * test_pgarr.c - array columns for tickd's bulk statements: the text
 * literal (integers, strings with escapes, NULL, nested integer arrays), a
 * column of integers only kept as integers and laid out in PostgreSQL's
 * binary array format (array_send: ndim, flags, element type, dimension,
 * lower bound, then length-prefixed big-endian values), and a column that
 * turns to text when something else than an integer is appended; a
 * statement whose columns hold no rows is not run at all.  Binary COPY
 * rows (pgcopy): the stream's header, a row's field count, a bigint and
 * an int4 array with a NULL element, the trailer.  The server side
 * (binary bigint[] parameters, the mining history's COPY) runs in every
 * tick of the integration suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "pgarr.h"

static const unsigned char *be32(const unsigned char *p, uint32_t want)
{
    assert_int_equal(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3],
                     want);
    return p + 4;
}

static void integers_are_sent_in_binary(void **state)
{
    struct pgarr a;
    const int64_t v[3] = {1, -2, INT64_MIN};
    const unsigned char *p;
    int len = 0;

    (void)state;
    pgarr_init(&a);
    for (int i = 0; i < 3; i++)
        pgarr_i64(&a, v[i]);
    p = (const unsigned char *)pgarr_bin(&a, &len);
    assert_non_null(p);
    assert_int_equal(len, 20 + 3 * 12);
    p = be32(p, 1);  /* one dimension */
    p = be32(p, 0);  /* no NULLs */
    p = be32(p, 20); /* int8 */
    p = be32(p, 3);  /* three elements */
    p = be32(p, 1);  /* from index 1 */
    for (int i = 0; i < 3; i++) {
        uint64_t u = (uint64_t)v[i];
        p = be32(p, 8);
        p = be32(p, (uint32_t)(u >> 32));
        p = be32(p, (uint32_t)u);
    }
    /* The same column as a literal, for a parameter of another type. */
    assert_string_equal(pgarr_done(&a), "{1,-2,-9223372036854775808}");
    assert_null(pgarr_bin(&a, &len));
    pgarr_free(&a);
}

static void an_empty_column_is_an_empty_array(void **state)
{
    struct pgarr a;
    const unsigned char *p;
    int len = 0;

    (void)state;
    pgarr_init(&a);
    p = (const unsigned char *)pgarr_bin(&a, &len);
    assert_non_null(p);
    assert_int_equal(len, 12);
    be32(be32(be32(p, 0), 0), 20);
    pgarr_free(&a);
    pgarr_init(&a);
    assert_string_equal(pgarr_done(&a), "{}");
    pgarr_free(&a);
}

static void other_elements_make_a_text_literal(void **state)
{
    struct pgarr a;
    const int64_t n[2] = {3, 4};
    int len = 0;

    (void)state;
    pgarr_init(&a);
    pgarr_i64(&a, 7);
    pgarr_i64(&a, 8);
    pgarr_str(&a, "a\"b\\c");
    pgarr_null(&a);
    pgarr_i64(&a, 9);
    pgarr_i64s(&a, n, 2);
    assert_null(pgarr_bin(&a, &len));
    assert_string_equal(pgarr_done(&a), "{7,8,\"a\\\"b\\\\c\",NULL,9,\"{3,4}\"}");
    pgarr_free(&a);
}

/* No rows: pgarr_exec answers BT_OK without the database (here one that
 * cannot be reached); one row and it has to go there, and fails. */
static void columns_without_rows_run_nothing(void **state)
{
    static const struct db_stmt st = {"t_pgarr", "SELECT 1 FROM unnest($1::bigint[])"};
    struct db db;
    struct pgarr a[2];
    struct bt_err err;

    (void)state;
    memset(&db, 0, sizeof(db));
    snprintf(db.dsn, sizeof(db.dsn), "host=/nonexistent-bt-test connect_timeout=1");
    err_clear(&err);
    pgarr_init_n(a, 2);
    assert_int_equal(pgarr_exec(&db, NULL, &st, NULL, 0, a, 2, &err), BT_OK);
    assert_null(db.conn); /* never connected */
    pgarr_init_n(a, 2);
    pgarr_i64(&a[0], 1);
    pgarr_i64(&a[1], 2);
    assert_int_equal(pgarr_exec(&db, NULL, &st, NULL, 0, a, 2, &err), BT_ERR);
    db_close(&db);
}

static const unsigned char *be16(const unsigned char *p, uint16_t want)
{
    assert_int_equal(((uint16_t)p[0] << 8) | p[1], want);
    return p + 2;
}

static void copy_rows_are_laid_out_as_postgres_reads_them(void **state)
{
    static const char sig[11] = "PGCOPY\n\377\r\n";
    const int64_t v[3] = {5, 0, -6};
    const bool has[3] = {true, false, true};
    struct pgcopy c;
    struct db db;
    struct bt_err err;
    const unsigned char *p;

    (void)state;
    pgcopy_init(&c);
    pgcopy_row(&c, 2);
    pgcopy_i64(&c, -2);
    pgcopy_array(&c, 4, v, has, 3);
    p = (const unsigned char *)c.b.data;
    assert_memory_equal(p, sig, sizeof(sig));
    p = be32(be32(p + sizeof(sig), 0), 0); /* flags, no header extension */
    p = be16(p, 2);                        /* two fields */
    p = be32(p, 8);                        /* the bigint */
    p = be32(be32(p, 0xffffffffu), 0xfffffffeu);
    p = be32(p, 20 + 8 + 4 + 8); /* the array's length */
    p = be32(p, 1);              /* one dimension */
    p = be32(p, 1);              /* with NULLs */
    p = be32(p, 23);             /* int4 */
    p = be32(be32(p, 3), 1);     /* three elements from 1 */
    p = be32(be32(p, 4), 5);
    p = be32(p, 0xffffffffu); /* NULL */
    p = be32(be32(p, 4), 0xfffffffau);
    assert_int_equal((size_t)(p - (const unsigned char *)c.b.data), c.b.len);
    assert_int_equal(c.rows, 1);
    /* Without rows nothing runs (the database here cannot be reached). */
    pgcopy_free(&c);
    pgcopy_init(&c);
    memset(&db, 0, sizeof(db));
    snprintf(db.dsn, sizeof(db.dsn), "host=/nonexistent-bt-test connect_timeout=1");
    err_clear(&err);
    assert_int_equal(pgcopy_exec(&db, "COPY t FROM STDIN (FORMAT binary)", &c, &err), BT_OK);
    assert_null(db.conn);
    pgcopy_init(&c);
    pgcopy_row(&c, 1);
    pgcopy_i64(&c, 1);
    assert_int_equal(pgcopy_exec(&db, "COPY t FROM STDIN (FORMAT binary)", &c, &err), BT_ERR);
    db_close(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers_are_sent_in_binary),
        cmocka_unit_test(an_empty_column_is_an_empty_array),
        cmocka_unit_test(other_elements_make_a_text_literal),
        cmocka_unit_test(columns_without_rows_run_nothing),
        cmocka_unit_test(copy_rows_are_laid_out_as_postgres_reads_them),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
