/*
 * test_buf.c - the bounded buffer: the cap is enforced by every append, a
 * refused append leaves the content intact, growth and reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

static void appends_concatenate_and_stay_terminated(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(buf_puts(&b, "abc"), BT_OK);
    assert_int_equal(buf_append(&b, "d\0e", 3), BT_OK); /* binary-safe */
    assert_int_equal(buf_printf(&b, "-%d-%s", 42, "x"), BT_OK);
    assert_int_equal(b.len, 3 + 3 + 5);
    assert_memory_equal(b.data, "abcd\0e-42-x", 11);
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

static void cap_is_enforced_by_every_append(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "0123456789"), BT_OK); /* exactly the cap */
    assert_int_equal(buf_puts(&b, "x"), BT_ERR);
    assert_int_equal(buf_append(&b, "x", 1), BT_ERR);
    assert_int_equal(buf_printf(&b, "%d", 1), BT_ERR);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789"); /* a refused append changes nothing */
    assert_true(b.cap <= 11);
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%s", "01234567890"), BT_ERR); /* 11 > 10 at once */
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

static void growth_is_clamped_to_the_cap(void **state)
{
    struct buf b;
    char chunk[100];

    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    buf_init(&b, 300);
    for (int i = 0; i < 3; i++)
        assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), BT_OK);
    assert_int_equal(b.len, 300);
    assert_int_equal(b.cap, 301); /* never allocates beyond cap + NUL */
    assert_int_equal(buf_append(&b, chunk, 1), BT_ERR);
    buf_free(&b);
}

static void unlimited_buffer_grows(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_puts(&b, "0123456789"), BT_OK);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.data[99999], '9');
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void reset_keeps_memory(void **state)
{
    struct buf b;
    char *data;

    (void)state;
    buf_init(&b, 0);
    buf_puts(&b, "hello");
    data = b.data;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_ptr_equal(b.data, data);
    buf_puts(&b, "hi");
    assert_string_equal(b.data, "hi");
    buf_free(&b);
    buf_reset(&b); /* safe on a freed buffer */
}

static void put_i64_prints_like_printf(void **state)
{
    static const int64_t v[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN};
    struct buf b;
    char want[512];
    size_t off = 0;

    (void)state;
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(buf_put_i64(&b, v[i]), BT_OK);
        assert_int_equal(buf_puts(&b, " "), BT_OK);
        off += (size_t)snprintf(want + off, sizeof(want) - off, "%" PRId64 " ", v[i]);
    }
    assert_string_equal(b.data, want);
    buf_free(&b);
    buf_init(&b, 4); /* the cap holds for it too */
    assert_int_equal(buf_put_i64(&b, 123), BT_OK);
    assert_int_not_equal(buf_put_i64(&b, 45), BT_OK);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appends_concatenate_and_stay_terminated),
        cmocka_unit_test(cap_is_enforced_by_every_append),
        cmocka_unit_test(growth_is_clamped_to_the_cap),
        cmocka_unit_test(unlimited_buffer_grows),
        cmocka_unit_test(reset_keeps_memory),
        cmocka_unit_test(put_i64_prints_like_printf),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
