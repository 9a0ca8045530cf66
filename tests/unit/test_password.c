/*
 * test_password.c - argon2id hashing: round trip, wrong passwords and
 * malformed hashes never match, rehash detection across cost profiles,
 * dummy hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "password.h"

static const char pw[] = "correct horse battery staple";

static void hash_then_verify(void **state)
{
    char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(password_hash(pw, strlen(pw), 0, h, &e), BT_OK);
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_true(password_verify(h, pw, strlen(pw)));
    assert_false(password_verify(h, pw, strlen(pw) - 1));
    assert_false(password_verify(h, "correct horse battery stapl3", strlen(pw)));
    /* Salted: the same password hashes differently each time. */
    assert_int_equal(password_hash(pw, strlen(pw), 0, h2, &e), BT_OK);
    assert_string_not_equal(h, h2);
}

static void malformed_hashes_never_match(void **state)
{
    (void)state;
    assert_false(password_verify(NULL, pw, strlen(pw)));
    assert_false(password_verify("", pw, strlen(pw)));
    assert_false(password_verify("x", pw, strlen(pw)));
    assert_false(password_verify("$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", pw, strlen(pw)));
}

static void rehash_when_profile_changes(void **state)
{
    char h[PASSWORD_HASH_MAX];
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(password_hash(pw, strlen(pw), 0, h, &e), BT_OK);
    assert_false(password_needs_rehash(h, 0));
    assert_true(password_needs_rehash(h, 1));
    assert_true(password_needs_rehash(NULL, 0));
    assert_true(password_needs_rehash("$2b$10$notargon", 0));
}

static void dummy_hash_verifies_nothing_useful(void **state)
{
    char d[PASSWORD_HASH_MAX];
    struct bt_err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(password_dummy(0, d, &e), BT_OK);
    assert_false(password_needs_rehash(d, 0)); /* same cost as real hashes */
    assert_false(password_verify(d, pw, strlen(pw)));
    assert_false(password_verify(d, "", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_then_verify),
        cmocka_unit_test(malformed_hashes_never_match),
        cmocka_unit_test(rehash_when_profile_changes),
        cmocka_unit_test(dummy_hash_verifies_nothing_useful),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
