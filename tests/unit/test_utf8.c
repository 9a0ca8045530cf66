/*
 * test_utf8.c - the strict decoder (RFC 3629 edge cases), code point
 * counting, control characters, and sanitising copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "utf8.h"

#define V(s) utf8_valid(s, sizeof(s) - 1)

static void well_formed_sequences_are_valid(void **state)
{
    (void)state;
    assert_true(V(""));
    assert_true(V("plain ascii ~"));
    assert_true(V("\xc2\x80"));         /* U+0080, smallest 2-byte */
    assert_true(V("\xdf\xbf"));         /* U+07FF */
    assert_true(V("\xe0\xa0\x80"));     /* U+0800, smallest 3-byte */
    assert_true(V("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
    assert_true(V("\xee\x80\x80"));     /* U+E000, just above */
    assert_true(V("\xef\xbf\xbf"));     /* U+FFFF */
    assert_true(V("\xf0\x90\x80\x80")); /* U+10000 */
    assert_true(V("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
    assert_true(V("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
}

static void ill_formed_sequences_are_rejected(void **state)
{
    (void)state;
    assert_false(V("\x80"));             /* lone continuation byte */
    assert_false(V("\xc0\xaf"));         /* overlong '/' */
    assert_false(V("\xc1\xbf"));         /* overlong */
    assert_false(V("\xe0\x80\xaf"));     /* overlong 3-byte */
    assert_false(V("\xf0\x80\x80\xaf")); /* overlong 4-byte */
    assert_false(V("\xed\xa0\x80"));     /* U+D800 surrogate */
    assert_false(V("\xed\xbf\xbf"));     /* U+DFFF surrogate */
    assert_false(V("\xf4\x90\x80\x80")); /* U+110000 */
    assert_false(V("\xf5\x80\x80\x80")); /* lead byte beyond F4 */
    assert_false(V("\xff"));
    assert_false(V("\xc3"));         /* truncated */
    assert_false(V("\xe2\x82"));     /* truncated */
    assert_false(V("\xe2\x28\xa1")); /* bad continuation */
    assert_false(V("ab\0cd"));       /* NUL is refused */
    /* the length bounds the check: a sequence cut by len is ill-formed */
    assert_false(utf8_valid("\xc3\xa9", 1));
    assert_true(utf8_valid("ab\xff", 2));
}

static void counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("", 0), 0);
    assert_int_equal(utf8_count("abc", 3), 3);
    assert_int_equal(utf8_count("h\xc3\xa9llo\xe2\x82\xac", 9), 6);
    assert_int_equal(utf8_count("\xf0\x9f\x98\x80", 4), 1);
}

static void printable_refuses_controls(void **state)
{
    (void)state;
    assert_true(utf8_printable("caf\xc3\xa9 \xe2\x82\xac", 9));
    assert_false(utf8_printable("a\tb", 3));
    assert_false(utf8_printable("a\nb", 3));
    assert_false(utf8_printable("a\x7f", 2));     /* DEL */
    assert_false(utf8_printable("a\xc2\x85", 3)); /* U+0085 NEL, a C1 control */
    assert_true(utf8_printable("a\xc2\xa0", 3));  /* U+00A0 is printable */
    assert_false(utf8_printable("a\xff", 2));     /* ill-formed */
}

static void copy_replaces_bad_bytes_and_controls(void **state)
{
    char out[64];

    (void)state;
    utf8_copy_sanitized(out, sizeof(out), "ok\xff\xfe.\x01.\x7f.");
    assert_string_equal(out, "ok??.?.?.");
    /* whitespace controls become spaces, so log lines stay one line */
    utf8_copy_sanitized(out, sizeof(out), "a\nb\tc\rd");
    assert_string_equal(out, "a b c d");
    utf8_copy_sanitized(out, sizeof(out), "caf\xc3\xa9");
    assert_string_equal(out, "caf\xc3\xa9");
    /* an overlong sequence is replaced byte by byte */
    utf8_copy_sanitized(out, sizeof(out), "\xc0\xaf");
    assert_string_equal(out, "??");
}

static void copy_truncates_on_a_character_boundary(void **state)
{
    char out[5];

    (void)state;
    /* "a" + "é" = 3 bytes; the 3-byte euro sign would need 6 + NUL */
    utf8_copy_sanitized(out, sizeof(out), "a\xc3\xa9\xe2\x82\xac");
    assert_string_equal(out, "a\xc3\xa9");
    assert_true(utf8_valid(out, strlen(out)));
    utf8_copy_sanitized(out, 1, "abc");
    assert_string_equal(out, "");
    utf8_copy_sanitized(out, sizeof(out), "abcdefgh");
    assert_string_equal(out, "abcd");
}

static void sanitize_in_place(void **state)
{
    char s[32] = "x\xed\xa0\x80y\xe2\x82";

    (void)state;
    utf8_sanitize(s, sizeof(s));
    assert_string_equal(s, "x???y??");
    assert_true(utf8_valid(s, strlen(s)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_formed_sequences_are_valid),
        cmocka_unit_test(ill_formed_sequences_are_rejected),
        cmocka_unit_test(counts_code_points),
        cmocka_unit_test(printable_refuses_controls),
        cmocka_unit_test(copy_replaces_bad_bytes_and_controls),
        cmocka_unit_test(copy_truncates_on_a_character_boundary),
        cmocka_unit_test(sanitize_in_place),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
