/*
 * test_route.c - the route matcher (literal segments, :captures, 404 vs 405
 * with Allow) and what the route flags make the pipeline (app_handle) do
 * before a handler runs: loopback-only, authentication, JSON body, and the
 * guarantee that a failing or silent handler becomes a clean 500.
 *
 * Routes here are exempt from rate limiting, so no Redis is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "route.h"

static int calls;

static int h_ok(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    (void)app;
    (void)err;
    calls++;
    http_resp_json(resp, 200, json_object_new_string(req->route->pattern));
    return BT_OK;
}

static int h_silent(struct app *app, struct http_req *req, struct http_resp *resp,
                    struct bt_err *err)
{
    (void)app;
    (void)req;
    (void)resp;
    (void)err;
    calls++;
    return BT_OK; /* forgot to answer */
}

static int h_fail_quietly(struct app *app, struct http_req *req, struct http_resp *resp,
                          struct bt_err *err)
{
    (void)app;
    (void)req;
    (void)err;
    calls++;
    http_resp_json(resp, 200, json_object_new_string("half-built answer"));
    return BT_ERR; /* failed without filling err */
}

static int h_internal(struct app *app, struct http_req *req, struct http_resp *resp,
                      struct bt_err *err)
{
    (void)app;
    (void)req;
    (void)resp;
    calls++;
    return err_internal(err, "SELECT secret_column FROM t: syntax error");
}

#define NR ROUTE_NO_RATE
static const struct route routes[] = {
    {"GET", "/", h_ok, NR, 0, 0},
    {"GET", "/api/companies/me", h_ok, NR, 0, 0},
    {"GET", "/api/companies/:id", h_ok, NR, 0, 0},
    {"PATCH", "/api/companies/:id", h_ok, NR | ROUTE_JSON, 0, 0},
    {"DELETE", "/api/companies/:id", h_ok, NR | ROUTE_AUTH, 0, 0},
    {"GET", "/api/companies/:cid/rigs/:rig", h_ok, NR, 0, 0},
    {"GET", "/api/a/:p1/:p2/:p3/:p4/:p5", h_ok, NR, 0, 0},
    {"POST", "/api/admin/worlds", h_ok, NR | ROUTE_ADMIN, 0, 0},
    {"GET", "/metrics", h_ok, NR | ROUTE_LOOPBACK, 0, 0},
    {"GET", "/silent", h_silent, NR, 0, 0},
    {"GET", "/quiet-failure", h_fail_quietly, NR, 0, 0},
    {"GET", "/internal", h_internal, NR, 0, 0},
};

static const struct app_service svc = {
    .name = "test",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
};

/* ---- a fake request ---- */

static const char *params[16];

static const char *fake_param(void *src, const char *name)
{
    (void)src;
    for (int i = 0; params[i]; i += 2)
        if (strcmp(params[i], name) == 0)
            return params[i + 1];
    return NULL;
}

static long no_body(void *src, char *buf, long n)
{
    (void)src;
    (void)buf;
    (void)n;
    return 0;
}

static struct arena arena;
static struct http_req req;

/* Sets up a request: method, path, then extra name/value pairs, NULL. */
static struct http_req *request(const char *method, const char *path, ...)
{
    va_list ap;
    int n = 0;
    const char *s;

    params[n++] = "REQUEST_METHOD";
    params[n++] = method;
    params[n++] = "DOCUMENT_URI";
    params[n++] = path;
    va_start(ap, path);
    while ((s = va_arg(ap, const char *)) != NULL && n < 14)
        params[n++] = s;
    va_end(ap);
    params[n] = NULL;
    arena_reset(&arena);
    http_req_init(&req, &arena, NULL, fake_param, no_body);
    return &req;
}

static enum route_result match(const char *method, const char *path, const char **allow)
{
    return route_match(routes, BT_ARRAY_LEN(routes), request(method, path, NULL), allow);
}

static int setup(void **state)
{
    (void)state;
    arena_init(&arena, 1 << 20);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&arena);
    return 0;
}

/* ---- the matcher ---- */

static void literal_and_capture_segments(void **state)
{
    const char *allow;

    (void)state;
    assert_int_equal(match("GET", "/", &allow), ROUTE_FOUND);
    assert_string_equal(req.route->pattern, "/");
    assert_int_equal(match("GET", "/api/companies/me", &allow), ROUTE_FOUND);
    assert_string_equal(req.route->pattern, "/api/companies/me"); /* first match wins */
    assert_int_equal(req.nparams, 0);
    assert_int_equal(match("GET", "/api/companies/42", &allow), ROUTE_FOUND);
    assert_string_equal(req.route->pattern, "/api/companies/:id");
    assert_int_equal(req.nparams, 1);
    assert_string_equal(http_param(&req, "id"), "42");
    assert_null(http_param(&req, "cid"));
    assert_int_equal(match("GET", "/api/companies/7/rigs/abc", &allow), ROUTE_FOUND);
    assert_string_equal(http_param(&req, "cid"), "7");
    assert_string_equal(http_param(&req, "rig"), "abc");
    assert_null(allow);
}

static void near_misses_are_404(void **state)
{
    static const char *const paths[] = {
        "",
        "/api",
        "/api/companies",
        "/api/companies/",
        "/api/companies/42/",
        "/api/companies//rigs/1",
        "/api/companies/7/rigs/",
        "/api/companiesX/42",
        "/API/companies/42",
        "//",
        "/api/companies/7/rigs/1/x",
        "/metrics/",
    };
    const char *allow;

    (void)state;
    for (size_t i = 0; i < BT_ARRAY_LEN(paths); i++) {
        if (match("GET", paths[i], &allow) != ROUTE_NOT_FOUND)
            fail_msg("GET '%s' should be 404", paths[i]);
        assert_null(allow);
    }
}

static void captures_are_bounded(void **state)
{
    char path[ROUTE_MAX_SEGMENT + 40];
    const char *allow;

    (void)state;
    /* five captures exceed HTTP_MAX_PARAMS: the route can never match */
    assert_int_equal(match("GET", "/api/a/1/2/3/4/5", &allow), ROUTE_NOT_FOUND);
    strcpy(path, "/api/companies/");
    memset(path + strlen(path), '9', ROUTE_MAX_SEGMENT);
    path[15 + ROUTE_MAX_SEGMENT] = '\0';
    assert_int_equal(match("GET", path, &allow), ROUTE_FOUND);
    strcat(path, "9");
    assert_int_equal(match("GET", path, &allow), ROUTE_NOT_FOUND);
}

static void wrong_method_is_405_with_allow(void **state)
{
    const char *allow;

    (void)state;
    assert_int_equal(match("POST", "/api/companies/42", &allow), ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, PATCH, DELETE");
    assert_int_equal(match("PUT", "/", &allow), ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET");
    /* "me" matches both the literal and the capture route: GET listed once */
    assert_int_equal(match("POST", "/api/companies/me", &allow), ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, PATCH, DELETE");
    assert_int_equal(match("get", "/", &allow), ROUTE_METHOD_NOT_ALLOWED); /* case matters */
}

/* ---- flags, through the pipeline ---- */

static struct app app;

static void handle(struct http_req *r, struct http_resp *resp)
{
    memset(&app, 0, sizeof(app));
    app.svc = &svc;
    app.cfg.body_max = 1024;
    calls = 0;
    app_handle(&app, r, resp);
}

static const char *header(const struct http_resp *resp, const char *name)
{
    for (int i = 0; i < resp->nheaders; i++)
        if (strcmp(resp->header_names[i], name) == 0)
            return resp->header_values[i];
    return NULL;
}

static const char *problem_type(const struct http_resp *resp)
{
    struct json_object *t;

    assert_string_equal(resp->content_type, "application/problem+json");
    assert_true(json_object_object_get_ex(resp->json, "type", &t));
    return json_object_get_string(t);
}

static void pipeline_404_and_405(void **state)
{
    struct http_resp resp;

    (void)state;
    handle(request("GET", "/nope", NULL), &resp);
    assert_int_equal(resp.status, 404);
    assert_string_equal(problem_type(&resp), "/problems/not-found");
    http_resp_clear(&resp);
    handle(request("DELETE", "/", NULL), &resp);
    assert_int_equal(resp.status, 405);
    assert_string_equal(problem_type(&resp), "/problems/method-not-allowed");
    assert_string_equal(header(&resp, "Allow"), "GET");
    http_resp_clear(&resp);
    handle(request("GET", "/api/companies/5", NULL), &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(calls, 1);
    http_resp_clear(&resp);
}

static void loopback_flag(void **state)
{
    struct http_resp resp;

    (void)state;
    handle(request("GET", "/metrics", "REMOTE_ADDR", "10.1.2.3", NULL), &resp);
    assert_int_equal(resp.status, 403);
    assert_int_equal(calls, 0);
    http_resp_clear(&resp);
    handle(request("GET", "/metrics", "REMOTE_ADDR", "127.0.0.1", NULL), &resp);
    assert_int_equal(resp.status, 200);
    http_resp_clear(&resp);
    assert_true(app_is_loopback("::1"));
    assert_true(app_is_loopback("127.8.9.10"));
    assert_false(app_is_loopback("1.127.0.0"));
    assert_false(app_is_loopback("::ffff:10.0.0.1"));
}

static void auth_flags_require_a_bearer_token(void **state)
{
    struct http_resp resp;

    (void)state;
    handle(request("DELETE", "/api/companies/5", NULL), &resp);
    assert_int_equal(resp.status, 401);
    assert_string_equal(problem_type(&resp), "/problems/unauthorized");
    assert_non_null(header(&resp, "WWW-Authenticate"));
    assert_int_equal(calls, 0);
    http_resp_clear(&resp);
    handle(request("POST", "/api/admin/worlds", "HTTP_AUTHORIZATION", "Basic eDp5", NULL), &resp);
    assert_int_equal(resp.status, 401);
    assert_int_equal(calls, 0);
    http_resp_clear(&resp);
    handle(request("POST", "/api/admin/worlds", "HTTP_AUTHORIZATION", "Bearer ", NULL), &resp);
    assert_int_equal(resp.status, 401);
    http_resp_clear(&resp);
}

static void json_flag_reads_the_body_first(void **state)
{
    struct http_resp resp;

    (void)state;
    handle(request("PATCH", "/api/companies/5", "CONTENT_TYPE", "text/plain", NULL), &resp);
    assert_int_equal(resp.status, 415);
    assert_int_equal(calls, 0);
    http_resp_clear(&resp);
    handle(request("PATCH", "/api/companies/5", "CONTENT_TYPE", "application/json",
                   "CONTENT_LENGTH", "5000", NULL),
           &resp);
    assert_int_equal(resp.status, 413); /* app.cfg.body_max = 1024 */
    assert_int_equal(calls, 0);
    http_resp_clear(&resp);
}

static void failing_handlers_become_clean_500s(void **state)
{
    static const char *const paths[] = {"/silent", "/quiet-failure", "/internal"};
    struct http_resp resp;
    struct buf out;

    (void)state;
    buf_init(&out, 1 << 16);
    for (size_t i = 0; i < BT_ARRAY_LEN(paths); i++) {
        handle(request("GET", paths[i], "REQUEST_ID", "rq1", NULL), &resp);
        assert_int_equal(calls, 1);
        assert_int_equal(resp.status, 500);
        assert_string_equal(problem_type(&resp), "/problems/internal");
        assert_int_equal(http_render(&resp, &req, &out), BT_OK);
        assert_null(strstr(out.data, "half-built"));
        assert_null(strstr(out.data, "secret_column"));
        assert_non_null(strstr(out.data, "\"request_id\":\"rq1\""));
    }
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literal_and_capture_segments),
        cmocka_unit_test(near_misses_are_404),
        cmocka_unit_test(captures_are_bounded),
        cmocka_unit_test(wrong_method_is_405_with_allow),
        cmocka_unit_test(pipeline_404_and_405),
        cmocka_unit_test(loopback_flag),
        cmocka_unit_test(auth_flags_require_a_bearer_token),
        cmocka_unit_test(json_flag_reads_the_body_first),
        cmocka_unit_test(failing_handlers_become_clean_500s),
    };
    return cmocka_run_group_tests_name("route", tests, setup, teardown);
}
