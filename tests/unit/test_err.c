/*
 * test_err.c - struct bt_err: problem fields, the 500/503 split between the
 * client's detail and the log-only explanation, the field-error cap, and
 * sanitising of client-supplied field names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "utf8.h"

static void cleared_error_is_not_set(void **state)
{
    struct bt_err e;

    (void)state;
    memset(&e, 0x5a, sizeof(e));
    err_clear(&e);
    assert_false(err_is_set(&e));
    assert_int_equal(e.nfields, 0);
    assert_int_equal(e.dropped_fields, 0);
    assert_int_equal(e.retry_after, 0);
    assert_null(e.type);
    assert_string_equal(e.detail, "");
    assert_int_equal(err_check_fields(&e), BT_OK);
    assert_false(err_is_set(&e));
}

static void set_fills_status_slug_and_detail(void **state)
{
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(err_set(&e, 409, "conflict", "name %s is taken", "bob"), BT_ERR);
    assert_true(err_is_set(&e));
    assert_int_equal(e.status, 409);
    assert_string_equal(e.type, "conflict");
    assert_string_equal(e.detail, "name bob is taken");
    assert_string_equal(err_title(&e), "Conflict");
}

static void detail_is_sanitised_and_bounded(void **state)
{
    struct bt_err e;
    char big[1000];

    (void)state;
    err_clear(&e);
    err_set(&e, 400, "validation", "bad \xff byte\x01");
    assert_string_equal(e.detail, "bad ? byte?");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_set(&e, 400, "validation", "%s", big);
    assert_int_equal(strlen(e.detail), ERR_DETAIL_LEN - 1);
}

static void internal_detail_never_reaches_the_client_fields(void **state)
{
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(err_internal(&e, "PQexec: password=%s", "hunter2"), BT_ERR);
    assert_int_equal(e.status, 500);
    assert_string_equal(e.type, "internal");
    assert_null(strstr(e.detail, "hunter2"));
    assert_non_null(strstr(e.internal, "hunter2"));
    assert_string_equal(err_title(&e), "Internal server error");
}

static void unavailable_is_503_with_retry_after(void **state)
{
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(err_unavailable(&e, 3, "connect 127.0.0.1:5432: refused"), BT_ERR);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.type, "unavailable");
    assert_int_equal(e.retry_after, 3);
    assert_null(strstr(e.detail, "5432"));
    assert_non_null(strstr(e.internal, "5432"));
}

static void field_errors_become_one_400(void **state)
{
    struct bt_err e;

    (void)state;
    err_clear(&e);
    err_field(&e, "email", "required", "is required");
    assert_false(err_is_set(&e)); /* only err_check_fields turns them into an error */
    assert_int_equal(err_check_fields(&e), BT_ERR);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.type, "validation");
    assert_string_equal(e.detail, "1 field is invalid");
    assert_string_equal(e.fields[0].field, "email");
    assert_string_equal(e.fields[0].code, "required");
    assert_string_equal(e.fields[0].message, "is required");
}

static void field_errors_are_capped_and_counted(void **state)
{
    struct bt_err e;
    char name[16];
    int i;

    (void)state;
    err_clear(&e);
    for (i = 0; i < ERR_MAX_FIELDS + 4; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        err_field(&e, name, "range", "out of range");
    }
    assert_int_equal(e.nfields, ERR_MAX_FIELDS);
    assert_int_equal(e.dropped_fields, 4);
    assert_string_equal(e.fields[ERR_MAX_FIELDS - 1].field, "f15");
    assert_int_equal(err_check_fields(&e), BT_ERR);
    /* the detail counts every invalid field, stored or not */
    assert_string_equal(e.detail, "20 fields are invalid");
}

static void client_field_names_are_sanitised(void **state)
{
    struct bt_err e;
    char longname[200];

    (void)state;
    err_clear(&e);
    err_field(&e, "a\xff\"b\n", "unknown", "msg \xc0\xaf");
    assert_true(utf8_valid(e.fields[0].field, strlen(e.fields[0].field)));
    assert_string_equal(e.fields[0].field, "a?\"b ");
    assert_string_equal(e.fields[0].message, "msg ??");
    err_field(&e, NULL, "required", "x");
    assert_string_equal(e.fields[1].field, "");
    /* a long name of 2-byte characters is cut on a character boundary */
    for (size_t i = 0; i + 2 < sizeof(longname); i += 2)
        memcpy(longname + i, "\xc3\xa9", 2);
    longname[sizeof(longname) - 2] = '\0';
    err_field(&e, longname, "unknown", "x");
    assert_true(strlen(e.fields[2].field) < ERR_FIELD_LEN);
    assert_true(utf8_valid(e.fields[2].field, strlen(e.fields[2].field)));
    assert_int_equal(strlen(e.fields[2].field), 62);
}

static void titles_and_reasons(void **state)
{
    struct bt_err e;

    (void)state;
    err_clear(&e);
    err_set(&e, 413, "payload-too-large", "x");
    assert_string_equal(err_title(&e), "Request body too large");
    err_set(&e, 418, "no-such-slug", "x");
    assert_string_equal(err_title(&e), "Bad Request"); /* falls back to the status class */
    err_set(&e, 404, NULL, "x");
    assert_string_equal(err_title(&e), "Not Found");
    assert_string_equal(err_reason(405), "Method Not Allowed");
    assert_string_equal(err_reason(429), "Too Many Requests");
    assert_string_equal(err_reason(299), "OK");
    assert_string_equal(err_reason(599), "Server Error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cleared_error_is_not_set),
        cmocka_unit_test(set_fills_status_slug_and_detail),
        cmocka_unit_test(detail_is_sanitised_and_bounded),
        cmocka_unit_test(internal_detail_never_reaches_the_client_fields),
        cmocka_unit_test(unavailable_is_503_with_retry_after),
        cmocka_unit_test(field_errors_become_one_400),
        cmocka_unit_test(field_errors_are_capped_and_counted),
        cmocka_unit_test(client_field_names_are_sanitised),
        cmocka_unit_test(titles_and_reasons),
    };
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
