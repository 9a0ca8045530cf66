/*
 * test_config.c - configuration from the environment: defaults, parsing,
 * invalid values failing with a message that names the variable, cross-key
 * rules, and the consistency of the key table itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* A fake environment: NULL-terminated name/value pairs. */
static const char *const *env;

static const char *fake_getenv(const char *name)
{
    for (const char *const *p = env; p && p[0]; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static int load(struct config *c, struct bt_err *e, const char *const *vars)
{
    env = vars;
    err_clear(e);
    return config_load(c, fake_getenv, e);
}

static void empty_environment_gives_the_defaults(void **state)
{
    struct config c;
    struct bt_err e;

    (void)state;
    assert_int_equal(load(&c, &e, NULL), BT_OK);
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.redis_prefix, "bt:");
    assert_string_equal(c.socket, "");
    assert_int_equal(c.tick_ms, 5000);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.body_max, 65536);
    assert_int_equal(c.redis_port, 6379);
    assert_int_equal(c.access_ttl_s, 900);
    assert_string_equal(c.jwt_kid, "k1");
    assert_string_equal(c.jwt_issuer, "bitcoin-tycoon");
    assert_string_equal(c.jwt_audience, "bitcoin-tycoon-api");
}

static void environment_overrides_defaults(void **state)
{
    static const char *const vars[] = {
        "BT_TICK_MS",
        "100",
        "BT_BODY_MAX",
        "16777216",
        "BT_LOG_LEVEL",
        "debug",
        "BT_SOCKET",
        "/run/x.sock",
        "BT_REDIS_PORT",
        "0",
        "BT_SOCKET_MODE",
        "0600",
        "BT_JWT_PREV_SECRET_FILE",
        "/k0",
        "BT_JWT_PREV_KID",
        "k0",
        NULL,
    };
    struct config c;
    struct bt_err e;

    (void)state;
    assert_int_equal(load(&c, &e, vars), BT_OK);
    assert_int_equal(c.tick_ms, 100);       /* the documented minimum */
    assert_int_equal(c.body_max, 16777216); /* the documented maximum */
    assert_string_equal(c.log_level, "debug");
    assert_string_equal(c.socket, "/run/x.sock");
    assert_int_equal(c.redis_port, 0);
    assert_string_equal(c.socket_mode, "0600");
    assert_string_equal(c.jwt_prev_kid, "k0");
    assert_int_equal(c.workers, 4); /* untouched keys keep their default */
}

/* Loads one bad value and checks that the error names the variable. */
static void expect_bad(const char *name, const char *value, const char *why)
{
    const char *vars[] = {name, value, NULL};
    struct config c;
    struct bt_err e;

    assert_int_equal(load(&c, &e, vars), BT_ERR);
    assert_true(err_is_set(&e));
    if (!strstr(e.detail, name) || !strstr(e.detail, why))
        fail_msg("%s=%s: detail '%s' should name the variable and say '%s'", name, value, e.detail,
                 why);
}

static void invalid_numbers_fail_with_a_clear_message(void **state)
{
    (void)state;
    expect_bad("BT_TICK_MS", "99", "between 100 and 3600000");
    expect_bad("BT_TICK_MS", "3600001", "between 100 and 3600000");
    expect_bad("BT_WORKERS", "0", "between 1 and 256");
    expect_bad("BT_WORKERS", "four", "must be an integer");
    expect_bad("BT_WORKERS", "4x", "must be an integer");
    expect_bad("BT_WORKERS", "", "must be an integer");
    expect_bad("BT_WORKERS", "4.0", "must be an integer");
    expect_bad("BT_BODY_MAX", "99999999999999999999999", "must be an integer"); /* ERANGE */
    expect_bad("BT_REDIS_PORT", "65536", "between 0 and 65535");
    expect_bad("BT_REDIS_PORT", "-1", "between 0 and 65535");
}

static void invalid_strings_fail_with_a_clear_message(void **state)
{
    char longv[300];

    (void)state;
    memset(longv, 'p', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    expect_bad("BT_REDIS_PREFIX", longv, "too long");
    expect_bad("BT_LOG_LEVEL", "verbose", "debug, info, warn or error");
    expect_bad("BT_SOCKET_MODE", "0999", "octal");
    expect_bad("BT_SOCKET_MODE", "", "octal");
}

static void previous_key_rules(void **state)
{
    static const char *const no_kid[] = {"BT_JWT_PREV_SECRET_FILE", "/k0", NULL};
    static const char *const same_kid[] = {"BT_JWT_PREV_SECRET_FILE", "/k0", "BT_JWT_PREV_KID",
                                           "k1", NULL};
    struct config c;
    struct bt_err e;

    (void)state;
    assert_int_equal(load(&c, &e, no_kid), BT_ERR);
    assert_non_null(strstr(e.detail, "BT_JWT_PREV_KID is required"));
    assert_int_equal(load(&c, &e, same_kid), BT_ERR);
    assert_non_null(strstr(e.detail, "must differ from BT_JWT_KID"));
}

static void real_environment_is_read_when_no_getter(void **state)
{
    struct config c;
    struct bt_err e;

    (void)state;
    setenv("BT_WORKERS", "7", 1);
    err_clear(&e);
    assert_int_equal(config_load(&c, NULL, &e), BT_OK);
    assert_int_equal(c.workers, 7);
    unsetenv("BT_WORKERS");
}

static void key_table_is_consistent(void **state)
{
    struct config c;
    struct bt_err e;

    (void)state;
    assert_true(config_nkeys >= 29);
    for (size_t i = 0; i < config_nkeys; i++) {
        const struct config_key *k = &config_keys[i];
        assert_int_equal(strncmp(k->name, "BT_", 3), 0);
        assert_non_null(k->def);
        assert_true(k->help && strlen(k->help) > 5);
        assert_true(k->offset + k->size <= sizeof(struct config));
        for (size_t j = 0; j < i; j++) {
            if (strcmp(config_keys[j].name, k->name) == 0)
                fail_msg("%s appears twice in the table", k->name);
            /* two keys never share storage */
            if (k->offset < config_keys[j].offset + config_keys[j].size &&
                config_keys[j].offset < k->offset + k->size)
                fail_msg("%s and %s overlap", k->name, config_keys[j].name);
        }
        if (k->type == CONFIG_T_STR) {
            assert_true(strlen(k->def) < k->size);
        } else {
            long d = strtol(k->def, NULL, 10);
            assert_true(k->min <= d && d <= k->max);
            assert_int_equal(k->size, k->type == CONFIG_T_INT ? sizeof(int) : sizeof(long));
        }
    }
    /* every default is accepted by the loader (checked above key by key too) */
    assert_int_equal(load(&c, &e, NULL), BT_OK);
}

static void table_prints_as_markdown(void **state)
{
    char *text = NULL;
    size_t len = 0, lines = 0;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    assert_non_null(f);
    config_print_table(f);
    fclose(f);
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, config_nkeys + 2);
    assert_int_equal(strncmp(text, "| variable | default | meaning |\n|---|---|---|\n", 46), 0);
    assert_non_null(strstr(text, "| `BT_TICK_MS` | `5000` | "));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_environment_gives_the_defaults),
        cmocka_unit_test(environment_overrides_defaults),
        cmocka_unit_test(invalid_numbers_fail_with_a_clear_message),
        cmocka_unit_test(invalid_strings_fail_with_a_clear_message),
        cmocka_unit_test(previous_key_rules),
        cmocka_unit_test(real_environment_is_read_when_no_getter),
        cmocka_unit_test(key_table_is_consistent),
        cmocka_unit_test(table_prints_as_markdown),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
