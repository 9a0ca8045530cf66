/*
 * test_valid.c - the declarative validator: types, ranges, lengths, enums,
 * decimals, required and unknown fields, UTF-8, query strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "http.h"
#include "valid.h"

struct order {
    const char *name;
    int64_t count;
    int64_t id;
    bool flag;
    const char *side;
    int64_t qty;
};

static const char *const sides[] = {"buy", "sell", NULL};

static const struct valid_rule rules[] = {
    VSTR(struct order, name, VF_REQUIRED | VF_PRINTABLE, 3, 8),
    VINT(struct order, count, 0, 1, 100),
    VID(struct order, id, 0),
    VBOOL(struct order, flag, 0),
    VENUM(struct order, side, VF_REQUIRED, sides),
    VDEC(struct order, qty, 0, 8, 100000, 100000000000, 100000),
    VALID_END,
};

/* The validated strings are borrowed from the JSON object, so the object of
 * the last run stays alive until the next run (or the group teardown). */
static struct json_object *last_obj;

static int run(const char *js, struct order *o, struct bt_err *e)
{
    memset(o, 0, sizeof(*o));
    o->count = 7; /* default kept when absent */
    err_clear(e);
    json_object_put(last_obj);
    last_obj = json_tokener_parse(js);
    return valid_object(last_obj, rules, o, 0, e);
}

static int teardown(void **state)
{
    (void)state;
    json_object_put(last_obj);
    last_obj = NULL;
    return 0;
}

static const char *code_of(const struct bt_err *e, const char *field)
{
    for (int i = 0; i < e->nfields; i++)
        if (strcmp(e->fields[i].field, field) == 0)
            return e->fields[i].code;
    return NULL;
}

static void valid_input_fills_output(void **state)
{
    struct order o;
    struct bt_err e;

    (void)state;
    assert_int_equal(run("{\"name\":\"abc\",\"side\":\"sell\",\"qty\":\"0.015\",\"id\":9,"
                         "\"flag\":true}",
                         &o, &e),
                     BT_OK);
    assert_string_equal(o.name, "abc");
    assert_string_equal(o.side, "sell");
    assert_int_equal(o.qty, 1500000);
    assert_int_equal(o.id, 9);
    assert_true(o.flag);
    assert_int_equal(o.count, 7);
}

static void every_invalid_field_is_reported(void **state)
{
    struct order o;
    struct bt_err e;

    (void)state;
    assert_int_equal(run("{\"name\":\"ab\",\"count\":1000,\"id\":0,\"flag\":\"yes\","
                         "\"side\":\"hold\",\"qty\":\"0.000000001\",\"extra\":1}",
                         &o, &e),
                     BT_ERR);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.type, "validation");
    assert_string_equal(code_of(&e, "name"), "too_short");
    assert_string_equal(code_of(&e, "count"), "range");
    assert_string_equal(code_of(&e, "id"), "range");
    assert_string_equal(code_of(&e, "flag"), "type");
    assert_string_equal(code_of(&e, "side"), "enum");
    assert_string_equal(code_of(&e, "qty"), "precision");
    assert_string_equal(code_of(&e, "extra"), "unknown");
    assert_int_equal(e.nfields, 7);
}

static void required_fields_and_lengths_in_code_points(void **state)
{
    struct order o;
    struct bt_err e;

    (void)state;
    assert_int_equal(run("{}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "name"), "required");
    assert_string_equal(code_of(&e, "side"), "required");
    /* 8 code points, 16 bytes: within max 8 characters */
    assert_int_equal(run("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                         "\xc3\xa9\",\"side\":\"buy\"}",
                         &o, &e),
                     BT_OK);
    assert_int_equal(run("{\"name\":\"123456789\",\"side\":\"buy\"}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "name"), "too_long");
}

static void strings_must_be_clean_utf8(void **state)
{
    struct order o;
    struct bt_err e;

    (void)state;
    assert_int_equal(run("{\"name\":\"ab\xff\xfe\",\"side\":\"buy\"}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "name"), "encoding");
    assert_int_equal(run("{\"name\":\"ab\\u0000cd\",\"side\":\"buy\"}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "name"), "encoding");
    assert_int_equal(run("{\"name\":\"ab\\u0007cd\",\"side\":\"buy\"}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "name"), "format");
    /* an unknown field whose name is invalid UTF-8 is reported sanitised */
    assert_int_equal(run("{\"name\":\"abc\",\"side\":\"buy\",\"\xff\":1}", &o, &e), BT_ERR);
    assert_string_equal(e.fields[0].field, "?");
}

static void decimals_are_strings_on_their_step(void **state)
{
    struct order o;
    struct bt_err e;

    (void)state;
    assert_int_equal(run("{\"name\":\"abc\",\"side\":\"buy\",\"qty\":0.5}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "qty"), "type");
    assert_int_equal(run("{\"name\":\"abc\",\"side\":\"buy\",\"qty\":\"1e3\"}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "qty"), "format");
    assert_int_equal(run("{\"name\":\"abc\",\"side\":\"buy\",\"qty\":\"0.0010001\"}", &o, &e),
                     BT_ERR);
    assert_string_equal(code_of(&e, "qty"), "step");
    assert_int_equal(run("{\"name\":\"abc\",\"side\":\"buy\",\"qty\":\"5000\"}", &o, &e), BT_ERR);
    assert_string_equal(code_of(&e, "qty"), "range");
    assert_int_equal(run("{\"name\":\"abc\",\"side\":\"buy\",\"qty\":\"0.00100000\"}", &o, &e),
                     BT_OK);
    assert_int_equal(o.qty, 100000);
}

static void decimal_parse_and_format_round_trip(void **state)
{
    const char *why = NULL;
    char buf[32];
    int64_t v;

    (void)state;
    assert_int_equal(valid_parse_decimal("65000.25", 6, &v, &why), BT_OK);
    assert_int_equal(v, 65000250000);
    valid_format_decimal(v, 6, buf, sizeof(buf));
    assert_string_equal(buf, "65000.25");
    assert_int_equal(valid_parse_decimal("-0.5", 2, &v, &why), BT_OK);
    assert_int_equal(v, -50);
    valid_format_decimal(-50, 2, buf, sizeof(buf));
    assert_string_equal(buf, "-0.5");
    assert_int_equal(valid_parse_decimal("99999999999999999999", 0, &v, &why), BT_ERR);
    assert_string_equal(why, "range");
    assert_int_equal(valid_parse_decimal("1.", 2, &v, &why), BT_ERR);
    assert_int_equal(valid_parse_decimal(".5", 2, &v, &why), BT_ERR);
    assert_int_equal(valid_parse_decimal("", 2, &v, &why), BT_ERR);
}

static void emails(void **state)
{
    (void)state;
    assert_true(valid_email("a.b+c@example.co"));
    assert_false(valid_email("no-at.example.com"));
    assert_false(valid_email("a@b"));
    assert_false(valid_email("a@@b.com"));
    assert_false(valid_email("a b@example.com"));
    assert_false(valid_email("a@example..com"));
    assert_false(valid_email("@example.com"));
}

struct page {
    int64_t limit;
    int64_t from;
    bool desc;
};

static const struct valid_rule page_rules[] = {
    VINT(struct page, limit, 0, 1, 100),
    VINT(struct page, from, 0, 0, INT64_MAX),
    VBOOL(struct page, desc, 0),
    VALID_END,
};

static const char *query_string;

static const char *fake_param(void *src, const char *name)
{
    (void)src;
    if (strcmp(name, "QUERY_STRING") == 0)
        return query_string;
    return NULL;
}

static void query_strings_are_validated_as_strings(void **state)
{
    struct arena a;
    struct http_req req;
    struct page p = {20, 0, false};
    struct bt_err e;

    (void)state;
    arena_init(&a, 0);
    query_string = "limit=50&desc=true&from=12";
    http_req_init(&req, &a, NULL, fake_param, NULL);
    err_clear(&e);
    assert_int_equal(valid_query(&req, page_rules, &p, &e), BT_OK);
    assert_int_equal(p.limit, 50);
    assert_int_equal(p.from, 12);
    assert_true(p.desc);

    query_string = "limit=abc&zzz=1";
    http_req_init(&req, &a, NULL, fake_param, NULL);
    err_clear(&e);
    assert_int_equal(valid_query(&req, page_rules, &p, &e), BT_ERR);
    assert_string_equal(code_of(&e, "limit"), "type");
    assert_string_equal(code_of(&e, "zzz"), "unknown");
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_input_fills_output),
        cmocka_unit_test(every_invalid_field_is_reported),
        cmocka_unit_test(required_fields_and_lengths_in_code_points),
        cmocka_unit_test(strings_must_be_clean_utf8),
        cmocka_unit_test(decimals_are_strings_on_their_step),
        cmocka_unit_test(decimal_parse_and_format_round_trip),
        cmocka_unit_test(emails),
        cmocka_unit_test(query_strings_are_validated_as_strings),
    };
    return cmocka_run_group_tests_name("valid", tests, NULL, teardown);
}
