/*
 * test_pub.c - the server-free parts of lib/pub.c: channel and event names
 * are checked before anything goes on the wire, and an unreachable
 * publisher is a 503 (tickd logs it; the tick stays committed).
 * Publishing through a real nginx+Nchan is covered by the integration suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "pub.h"
#include "testutil.h"

static void bad_names_are_refused_before_sending(void **state)
{
    static const char *const bad[] = {"",          "world 1",   "../admin",   "world/1",
                                      "w\r\nX: y", "w\xc3\xa9", "world.1?x=1"};
    char url[64], longname[200];
    struct pub p;
    struct bt_err e;

    (void)state;
    /* the publisher is down: a 500 (not a 503) proves nothing was sent */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
    err_clear(&e);
    assert_int_equal(pub_open(&p, url, 500, &e), BT_OK);
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        err_clear(&e);
        assert_int_equal(pub_send(&p, bad[i], "tick:update", "{}", 2, &e), BT_ERR);
        if (e.status != 500)
            fail_msg("channel '%s': status %d", bad[i], e.status);
    }
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    err_clear(&e);
    assert_int_equal(pub_send(&p, longname, "tick:update", "{}", 2, &e), BT_ERR);
    assert_int_equal(e.status, 500);
    err_clear(&e);
    assert_int_equal(pub_send(&p, "world.1", "tick\r\nX-Evil: 1", "{}", 2, &e), BT_ERR);
    assert_int_equal(e.status, 500);
    /* a good name reaches the network, which is down: 503 */
    err_clear(&e);
    assert_int_equal(pub_send(&p, "company.42", "tick:update", "{}", 2, &e), BT_ERR);
    assert_int_equal(e.status, 503);
    assert_true(e.retry_after > 0);
    pub_close(&p);
    pub_close(&p); /* idempotent */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_names_are_refused_before_sending),
    };
    return cmocka_run_group_tests_name("pub", tests, NULL, NULL);
}
