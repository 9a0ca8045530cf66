/*
 * test_audit.c - audit entries: every event has a distinct stored name,
 * and what comes from the request (address, user agent, request id) is
 * taken along bounded and sanitised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "audit.h"
#include "http.h"

static char long_ua[1000];

static const char *params(void *src, const char *name)
{
    const char *ua = src;

    if (strcmp(name, "REMOTE_ADDR") == 0)
        return "203.0.113.7";
    if (strcmp(name, "REQUEST_ID") == 0)
        return "0123456789abcdef";
    if (strcmp(name, "HTTP_USER_AGENT") == 0)
        return ua;
    return NULL;
}

static void every_event_has_a_distinct_name(void **state)
{
    int i, j;

    (void)state;
    for (i = 0; i < AUDIT_EVENT_COUNT; i++) {
        assert_non_null(audit_event_name((enum audit_event)i));
        for (j = 0; j < i; j++)
            assert_string_not_equal(audit_event_name((enum audit_event)i),
                                    audit_event_name((enum audit_event)j));
    }
    assert_string_equal(audit_event_name(AUDIT_REFRESH_REUSE), "refresh_reuse");
    assert_string_equal(audit_event_name(AUDIT_LOGIN_FAILURE), "login_failure");
    assert_null(audit_event_name(AUDIT_EVENT_COUNT));
}

static void request_context_is_bounded_and_sanitised(void **state)
{
    struct arena a;
    struct http_req req;
    struct audit_entry e;

    (void)state;
    arena_init(&a, 1 << 20);
    memset(long_ua, 'M', sizeof(long_ua) - 1);
    long_ua[5] = '\x01';
    http_req_init(&req, &a, long_ua, params, NULL);
    audit_from_request(&e, &req, AUDIT_LOGIN_SUCCESS, 42);
    assert_int_equal(e.event, AUDIT_LOGIN_SUCCESS);
    assert_int_equal(e.user_id, 42);
    assert_int_equal(e.actor_id, 0);
    assert_string_equal(e.ip, "203.0.113.7");
    assert_string_equal(e.request_id, "0123456789abcdef");
    assert_int_equal(strlen(e.user_agent), AUDIT_UA_MAX);
    assert_int_equal(e.user_agent[5], '?');
    assert_null(e.detail);
    arena_free(&a);
}

static void missing_context_stays_null(void **state)
{
    struct arena a;
    struct http_req req;
    struct audit_entry e;

    (void)state;
    arena_init(&a, 1 << 20);
    http_req_init(&req, &a, "", params, NULL);
    audit_from_request(&e, &req, AUDIT_LOGOUT, 0);
    assert_null(e.user_agent);
    assert_int_equal(e.user_id, 0);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_event_has_a_distinct_name),
        cmocka_unit_test(request_context_is_bounded_and_sanitised),
        cmocka_unit_test(missing_context_stays_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
