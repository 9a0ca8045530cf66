/*
 * test_account.c - email normalisation and the user/company JSON views
 * (private fields only when asked, no company -> null).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "account.h"

static void emails_are_trimmed_and_lowercased(void **state)
{
    struct arena a;

    (void)state;
    arena_init(&a, 1 << 16);
    assert_string_equal(account_normalize_email(&a, "  Alice@Example.COM \t\n"),
                        "alice@example.com");
    assert_string_equal(account_normalize_email(&a, "bob@x.io"), "bob@x.io");
    assert_string_equal(account_normalize_email(&a, "   "), "");
    /* Only ASCII is folded; other bytes are left for the validator to refuse. */
    assert_string_equal(account_normalize_email(&a, "\xc3\x89@X.io"), "\xc3\x89@x.io");
    arena_free(&a);
}

static struct account sample(void)
{
    struct account acc;

    memset(&acc, 0, sizeof(acc));
    acc.id = 7;
    acc.email = "a@b.co";
    acc.role = "player";
    acc.created_at = "2024-04-20T12:00:00+00:00";
    acc.company_id = 3;
    acc.company_name = "Hash Hut";
    acc.region = "iceland";
    acc.world_id = 1;
    acc.reputation = 12;
    acc.rank = 2;
    acc.company_created_at = "2024-04-20T12:00:00+00:00";
    return acc;
}

static void user_json_hides_private_fields_unless_asked(void **state)
{
    struct account acc = sample();
    struct json_object *pub = account_user_json(&acc, false);
    struct json_object *priv = account_user_json(&acc, true), *v;

    (void)state;
    assert_false(json_object_object_get_ex(pub, "email", NULL));
    assert_false(json_object_object_get_ex(pub, "role", NULL));
    assert_false(json_object_object_get_ex(pub, "is_guest", NULL));
    assert_true(json_object_object_get_ex(pub, "id", &v));
    assert_int_equal(json_object_get_int64(v), 7);
    assert_true(json_object_object_get_ex(priv, "email", &v));
    assert_string_equal(json_object_get_string(v), "a@b.co");
    assert_true(json_object_object_get_ex(priv, "is_guest", &v));
    assert_false(json_object_get_boolean(v));
    json_object_put(pub);
    json_object_put(priv);
}

static void company_json_or_null(void **state)
{
    struct account acc = sample();
    struct json_object *c = account_company_json(&acc), *v;

    (void)state;
    assert_true(json_object_object_get_ex(c, "name", &v));
    assert_string_equal(json_object_get_string(v), "Hash Hut");
    assert_true(json_object_object_get_ex(c, "rank", &v));
    assert_int_equal(json_object_get_int64(v), 2);
    json_object_put(c);
    acc.company_id = 0;
    assert_null(account_company_json(&acc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(emails_are_trimmed_and_lowercased),
        cmocka_unit_test(user_json_hides_private_fields_unless_asked),
        cmocka_unit_test(company_json_or_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
