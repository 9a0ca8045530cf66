/*
 * test_log.c - JSON-lines logging: the line shape (ts, level, service, pid,
 * msg, request_id, merged fields), level filtering, and escaping: whatever
 * the message holds, each event is exactly one line of valid JSON.
 *
 * The logger writes to fd 2; the tests point fd 2 at a temporary file for
 * the duration of each capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

static FILE *cap;
static int saved_fd = -1;
static char captured[16384];

static void capture_start(void)
{
    cap = tmpfile();
    assert_non_null(cap);
    saved_fd = dup(2);
    dup2(fileno(cap), 2);
}

/* Stops capturing; returns the number of lines written. */
static int capture_end(void)
{
    size_t n;
    int lines = 0;

    dup2(saved_fd, 2);
    close(saved_fd);
    rewind(cap);
    n = fread(captured, 1, sizeof(captured) - 1, cap);
    captured[n] = '\0';
    fclose(cap);
    for (size_t i = 0; i < n; i++)
        lines += captured[i] == '\n';
    return lines;
}

/* Parses the single captured line (caller puts). */
static struct json_object *the_line(void)
{
    size_t n = strlen(captured);
    struct json_object *o;

    assert_true(n > 0 && captured[n - 1] == '\n');
    assert_null(memchr(captured, '\n', n - 1)); /* exactly one line */
    assert_true(utf8_valid(captured, n));
    o = json_tokener_parse(captured);
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_object));
    return o;
}

static const char *get(struct json_object *o, const char *key)
{
    struct json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void line_has_the_documented_fields(void **state)
{
    struct json_object *o, *pid;
    regex_t re;

    (void)state;
    log_init("player", LOGL_INFO);
    capture_start();
    log_msg(LOGL_WARN, "req-1", "disk %d%% full", 93);
    assert_int_equal(capture_end(), 1);
    o = the_line();
    assert_string_equal(get(o, "level"), "warn");
    assert_string_equal(get(o, "service"), "player");
    assert_string_equal(get(o, "msg"), "disk 93% full");
    assert_string_equal(get(o, "request_id"), "req-1");
    assert_true(json_object_object_get_ex(o, "pid", &pid));
    assert_int_equal(json_object_get_int(pid), getpid());
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, get(o, "ts"), 0, NULL, 0), 0);
    regfree(&re);
    json_object_put(o);
}

static void structured_fields_are_merged(void **state)
{
    struct json_object *f = json_object_new_object(), *o, *st;

    (void)state;
    log_init("auth", LOGL_DEBUG);
    json_object_object_add(f, "route", json_object_new_string("POST /auth/login"));
    json_object_object_add(f, "status", json_object_new_int(401));
    capture_start();
    log_event(LOGL_INFO, NULL, "request", f); /* takes ownership of f */
    assert_int_equal(capture_end(), 1);
    o = the_line();
    assert_string_equal(get(o, "route"), "POST /auth/login");
    assert_true(json_object_object_get_ex(o, "status", &st));
    assert_int_equal(json_object_get_int(st), 401);
    assert_null(get(o, "request_id")); /* absent, not empty */
    json_object_put(o);
}

static void levels_below_the_minimum_are_dropped(void **state)
{
    (void)state;
    log_init("tickd", LOGL_WARN);
    assert_false(log_enabled(LOGL_INFO));
    assert_true(log_enabled(LOGL_ERROR));
    capture_start();
    log_msg(LOGL_DEBUG, NULL, "hidden");
    log_msg(LOGL_INFO, NULL, "hidden");
    log_event(LOGL_INFO, NULL, "hidden", json_object_new_object()); /* still freed */
    log_msg(LOGL_ERROR, NULL, "shown");
    assert_int_equal(capture_end(), 1);
    assert_non_null(strstr(captured, "\"msg\":\"shown\""));
    assert_null(strstr(captured, "hidden"));
}

static void level_names_parse(void **state)
{
    enum log_level l;

    (void)state;
    assert_int_equal(log_level_parse("debug", &l), BT_OK);
    assert_int_equal(l, LOGL_DEBUG);
    assert_int_equal(log_level_parse("error", &l), BT_OK);
    assert_int_equal(l, LOGL_ERROR);
    assert_int_equal(log_level_parse("ERROR", &l), BT_ERR);
    assert_int_equal(log_level_parse("", &l), BT_ERR);
}

static void hostile_messages_stay_one_valid_line(void **state)
{
    struct json_object *o;

    (void)state;
    log_init("site", LOGL_INFO);
    capture_start();
    log_msg(LOGL_INFO, "id\n\"x\"",
            "quote \" backslash \\ newline\nfake {\"level\":\"error\"} "
            "bad \xff\xfe tab\t del\x7f");
    assert_int_equal(capture_end(), 1);
    o = the_line();
    assert_string_equal(get(o, "msg"), "quote \" backslash \\ newline fake {\"level\":\"error\"} "
                                       "bad ?? tab  del?");
    assert_string_equal(get(o, "level"), "info"); /* not overridden by the message */
    assert_string_equal(get(o, "request_id"), "id \"x\"");
    json_object_put(o);
}

static void long_messages_are_truncated_not_split(void **state)
{
    char big[5000];
    struct json_object *o, *f = json_object_new_object();

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_object_add(f, "blob", json_object_new_string(big)); /* > the stack buffer */
    log_init("event", LOGL_INFO);
    capture_start();
    log_msg(LOGL_INFO, NULL, "%s", big);
    log_event(LOGL_INFO, NULL, "big fields", f);
    assert_int_equal(capture_end(), 2);
    o = json_tokener_parse(captured);
    assert_non_null(o);
    assert_int_equal(strlen(get(o, "msg")), 1023);
    json_object_put(o);
    o = json_tokener_parse(strchr(captured, '\n') + 1);
    assert_non_null(o);
    assert_int_equal(strlen(get(o, "blob")), sizeof(big) - 1);
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_has_the_documented_fields),
        cmocka_unit_test(structured_fields_are_merged),
        cmocka_unit_test(levels_below_the_minimum_are_dropped),
        cmocka_unit_test(level_names_parse),
        cmocka_unit_test(hostile_messages_stay_one_valid_line),
        cmocka_unit_test(long_messages_are_truncated_not_split),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
