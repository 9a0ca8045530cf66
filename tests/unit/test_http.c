/*
 * test_http.c - a request and its answer without a web server: CGI
 * parameters, headers, query strings, the JSON body (415/413/400, depth
 * cap, trailing data, short reads), and the rendered answers, above all the
 * problem+json shape and that a 500 never carries internals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "utf8.h"

/* ---- a fake CGI request ---- */

struct fake {
    const char *const *params; /* name, value, ..., NULL */
    const char *body;
    size_t body_len;
    size_t off;
    long chunk; /* bytes per read call (0 = all) */
    int reads;
};

static const char *fake_param(void *src, const char *name)
{
    const struct fake *f = src;

    for (const char *const *p = f->params; p && p[0]; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static long fake_read(void *src, char *buf, long n)
{
    struct fake *f = src;
    size_t left = f->body_len - f->off;

    f->reads++;
    if (f->chunk && n > f->chunk)
        n = f->chunk;
    if ((size_t)n > left)
        n = (long)left;
    memcpy(buf, f->body + f->off, (size_t)n);
    f->off += (size_t)n;
    return n;
}

struct fixture {
    struct arena arena;
    struct fake fake;
    struct http_req req;
    struct bt_err err;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    arena_init(&fx->arena, 1 << 20);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    arena_free(&fx->arena);
    free(fx);
    return 0;
}

/* Starts a request with params and an optional body (Content-Length is the
 * body's length unless the params give one). */
static struct http_req *start(struct fixture *fx, const char *const *params, const char *body)
{
    arena_reset(&fx->arena);
    memset(&fx->fake, 0, sizeof(fx->fake));
    fx->fake.params = params;
    fx->fake.body = body ? body : "";
    fx->fake.body_len = body ? strlen(body) : 0;
    http_req_init(&fx->req, &fx->arena, &fx->fake, fake_param, fake_read);
    if (body && !fake_param(&fx->fake, "CONTENT_LENGTH"))
        fx->req.content_length = (long)fx->fake.body_len;
    err_clear(&fx->err);
    return &fx->req;
}

static const char *const json_post[] = {
    "REQUEST_METHOD", "POST", "DOCUMENT_URI", "/api/x", "CONTENT_TYPE", "application/json", NULL};

/* ---- request line, headers, query ---- */

static void request_fields_come_from_the_params(void **state)
{
    static const char *const p[] = {
        "REQUEST_METHOD",
        "PATCH",
        "DOCUMENT_URI",
        "/api/companies/7",
        "QUERY_STRING",
        "a=1",
        "REQUEST_ID",
        "abc123",
        "REMOTE_ADDR",
        "10.0.0.1",
        "CONTENT_TYPE",
        "application/json",
        "CONTENT_LENGTH",
        "12",
        "HTTP_AUTHORIZATION",
        "Bearer t",
        "HTTP_X_FORWARDED_FOR",
        "1.2.3.4",
        NULL,
    };
    struct fixture *fx = *state;
    struct http_req *req = start(fx, p, NULL);

    assert_string_equal(req->method, "PATCH");
    assert_string_equal(req->path, "/api/companies/7");
    assert_string_equal(req->query, "a=1");
    assert_string_equal(req->request_id, "abc123");
    assert_string_equal(req->remote_addr, "10.0.0.1");
    assert_int_equal(req->content_length, 12);
    assert_string_equal(http_header(req, "Authorization"), "Bearer t");
    assert_string_equal(http_header(req, "x-forwarded-for"), "1.2.3.4");
    assert_null(http_header(req, "Cookie"));
    assert_null(
        http_header(req, "X-A-Header-Name-Far-Too-Long-To-Be-Looked-Up-In-Any-Sane-Way-At-All"));
    assert_null(http_param(req, "id")); /* no route matched yet */
}

static void missing_params_have_safe_defaults(void **state)
{
    static const char *const bad_len[] = {"CONTENT_LENGTH", "12abc", NULL};
    static const char *const neg_len[] = {"CONTENT_LENGTH", "-5", NULL};
    struct fixture *fx = *state;
    struct http_req *req = start(fx, NULL, NULL);

    assert_string_equal(req->method, "GET");
    assert_string_equal(req->path, "/");
    assert_string_equal(req->query, "");
    assert_string_equal(req->request_id, "");
    assert_int_equal(req->content_length, 0);
    assert_int_equal(start(fx, bad_len, NULL)->content_length, 0);
    assert_int_equal(start(fx, neg_len, NULL)->content_length, 0);
}

static void query_is_decoded_and_first_occurrence_wins(void **state)
{
    static const char *const p[] = {
        "QUERY_STRING", "a=1&b=hello+world&c=%41%2f%e2%82%ac&flag&&e=&a=2&sp%20ace=%3D", NULL};
    struct fixture *fx = *state;
    struct http_req *req = start(fx, p, NULL);

    assert_int_equal(http_query_parse(req, &fx->err), BT_OK);
    assert_int_equal(req->nquery, 7);
    assert_string_equal(http_query(req, "a"), "1");
    assert_string_equal(http_query(req, "b"), "hello world");
    assert_string_equal(http_query(req, "c"), "A/\xe2\x82\xac");
    assert_string_equal(http_query(req, "flag"), "");
    assert_string_equal(http_query(req, "e"), "");
    assert_string_equal(http_query(req, "sp ace"), "=");
    assert_null(http_query(req, "zzz"));
}

static void malformed_queries_are_400(void **state)
{
    static const char *const bad[][3] = {
        {"QUERY_STRING", "a=%4", NULL},
        {"QUERY_STRING", "a=%zz", NULL},
        {"QUERY_STRING", "a=1&b=%", NULL},
        {"QUERY_STRING", "%g1=1", NULL},
    };
    struct fixture *fx = *state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_req *req = start(fx, bad[i], NULL);
        assert_int_equal(http_query_parse(req, &fx->err), BT_ERR);
        assert_int_equal(fx->err.status, 400);
        assert_string_equal(fx->err.detail, "malformed query string");
        assert_null(http_query(req, "a")); /* the convenience getter sees nothing */
    }
}

static void too_many_query_params_are_400(void **state)
{
    static char q[HTTP_MAX_QUERY * 8];
    static const char *p[] = {"QUERY_STRING", q, NULL};
    struct fixture *fx = *state;
    size_t o = 0;

    for (int i = 0; i < HTTP_MAX_QUERY; i++)
        o += (size_t)snprintf(q + o, sizeof(q) - o, "%sk%d=1", i ? "&" : "", i);
    assert_int_equal(http_query_parse(start(fx, p, NULL), &fx->err), BT_OK);
    snprintf(q + o, sizeof(q) - o, "&one=more");
    assert_int_equal(http_query_parse(start(fx, p, NULL), &fx->err), BT_ERR);
    assert_int_equal(fx->err.status, 400);
    assert_non_null(strstr(fx->err.detail, "too many query parameters"));
}

/* ---- bodies ---- */

static void json_object_body_is_parsed(void **state)
{
    struct fixture *fx = *state;
    struct http_req *req = start(fx, json_post, " {\"a\": [1, 2], \"b\": \"x\"} \r\n");
    struct json_object *a;

    fx->fake.chunk = 3; /* the body arrives in small reads */
    assert_int_equal(http_read_json(req, 1024, &fx->err), BT_OK);
    assert_false(err_is_set(&fx->err));
    assert_true(json_object_object_get_ex(req->json, "a", &a));
    assert_int_equal(json_object_array_length(a), 2);
    assert_true(fx->fake.reads > 5);
    /* a second call reuses the parsed body */
    assert_int_equal(http_read_json(req, 1024, &fx->err), BT_OK);
}

static void json_content_types(void **state)
{
    static const char *const ok_types[] = {"application/json", "application/json; charset=utf-8",
                                           "Application/JSON", "application/json ;charset=utf-8"};
    static const char *const bad_types[] = {"",
                                            "text/plain",
                                            "application/jsonx",
                                            "application/json-patch+json",
                                            "multipart/form-data",
                                            "application/x-www-form-urlencoded"};
    struct fixture *fx = *state;
    const char *p[] = {"CONTENT_TYPE", NULL, NULL};

    for (size_t i = 0; i < sizeof(ok_types) / sizeof(ok_types[0]); i++) {
        p[1] = ok_types[i];
        assert_int_equal(http_read_json(start(fx, p, "{}"), 100, &fx->err), BT_OK);
    }
    for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        p[1] = bad_types[i];
        assert_int_equal(http_read_json(start(fx, p, "{}"), 100, &fx->err), BT_ERR);
        assert_int_equal(fx->err.status, 415);
        assert_string_equal(fx->err.type, "unsupported-media-type");
        assert_int_equal(fx->fake.reads, 0); /* refused before reading */
    }
}

static void oversized_body_is_413_before_reading(void **state)
{
    struct fixture *fx = *state;
    struct http_req *req = start(fx, json_post, "{\"a\":\"0123456789\"}");

    assert_int_equal(http_read_json(req, 10, &fx->err), BT_ERR);
    assert_int_equal(fx->err.status, 413);
    assert_string_equal(fx->err.type, "payload-too-large");
    assert_int_equal(fx->fake.reads, 0);
    /* exactly the limit is accepted */
    req = start(fx, json_post, "{\"a\":1}");
    assert_int_equal(http_read_json(req, 7, &fx->err), BT_OK);
}

static void short_body_is_400(void **state)
{
    static const char *const p[] = {"CONTENT_TYPE", "application/json", "CONTENT_LENGTH", "50",
                                    NULL};
    struct fixture *fx = *state;
    struct http_req *req = start(fx, p, "{\"a\":1}");

    assert_int_equal(http_read_json(req, 1024, &fx->err), BT_ERR);
    assert_int_equal(fx->err.status, 400);
    assert_non_null(strstr(fx->err.detail, "ended after 7 of 50 bytes"));
}

static void expect_malformed(struct fixture *fx, const char *body, const char *detail)
{
    struct http_req *req = start(fx, json_post, body);

    assert_int_equal(http_read_json(req, 4096, &fx->err), BT_ERR);
    assert_int_equal(fx->err.status, 400);
    assert_string_equal(fx->err.type, "malformed-json");
    if (!strstr(fx->err.detail, detail))
        fail_msg("body %s: detail '%s' lacks '%s'", body, fx->err.detail, detail);
    assert_null(req->json);
}

static void malformed_bodies_are_400(void **state)
{
    struct fixture *fx = *state;

    expect_malformed(fx, "", "a JSON object body is required");
    expect_malformed(fx, "{", "unexpected end of input");
    expect_malformed(fx, "{\"a\":1,}", "invalid JSON");
    expect_malformed(fx, "{\"a\":'x'}", "invalid JSON"); /* strict mode */
    expect_malformed(fx, "{\"a\":01}", "invalid JSON");
    expect_malformed(fx, "{\"a\":1} {}", "invalid JSON");
    /* json-c takes these even in strict mode; they are not JSON */
    expect_malformed(fx, "{\"a\":NaN}", "numbers must be finite");
    expect_malformed(fx, "{\"a\":[1,{\"b\":-Infinity}]}", "numbers must be finite");
    expect_malformed(fx, "{\"a\":1e999}", "numbers must be finite");
    expect_malformed(fx, "{\"a\":1}x", "invalid JSON");
    expect_malformed(fx, "[1,2]", "must be a JSON object");
    expect_malformed(fx, "\"str\"", "must be a JSON object");
    expect_malformed(fx, "null", ""); /* json-c: "unexpected end of input" */
}

/* {"a": [[[...]]]} with `arrays` nested arrays: depth = arrays + 1. */
static char *nested(int arrays)
{
    char *s = malloc((size_t)arrays * 2 + 16), *o = s;

    o += sprintf(o, "{\"a\":");
    for (int i = 0; i < arrays; i++)
        *o++ = '[';
    for (int i = 0; i < arrays; i++)
        *o++ = ']';
    strcpy(o, "}");
    return s;
}

static void nesting_is_capped(void **state)
{
    struct fixture *fx = *state;
    char *ok = nested(HTTP_JSON_MAX_DEPTH - 1), *deep = nested(HTTP_JSON_MAX_DEPTH),
         *huge = nested(100000);

    assert_int_equal(http_read_json(start(fx, json_post, ok), 1 << 19, &fx->err), BT_OK);
    expect_malformed(fx, deep, "nested deeper than 16 levels");
    /* a very deep document is refused without recursion trouble */
    assert_int_equal(http_read_json(start(fx, json_post, huge), 1 << 19, &fx->err), BT_ERR);
    assert_int_equal(fx->err.status, 400);
    free(ok);
    free(deep);
    free(huge);
}

static void invalid_utf8_passes_through_to_the_validator(void **state)
{
    struct fixture *fx = *state;
    struct http_req *req = start(fx, json_post, "{\"name\":\"ab\xff\xfe\"}");
    struct json_object *v;

    /* The body parses; the validator (test_valid) rejects the field by name.
     * The bytes must reach it unchanged, not silently repaired. */
    assert_int_equal(http_read_json(req, 1024, &fx->err), BT_OK);
    assert_true(json_object_object_get_ex(req->json, "name", &v));
    assert_memory_equal(json_object_get_string(v), "ab\xff\xfe", 5);
}

/* ---- answers ---- */

/* Renders resp and splits the CGI answer into its header block and body. */
static char *render(struct http_resp *resp, struct http_req *req, char **body)
{
    static struct buf out;
    char *sep;

    buf_free(&out);
    buf_init(&out, 1 << 20);
    assert_int_equal(http_render(resp, req, &out), BT_OK);
    sep = strstr(out.data, "\r\n\r\n");
    assert_non_null(sep);
    *sep = '\0';
    *body = sep + 4;
    return out.data;
}

static void json_answer_renders_status_headers_and_length(void **state)
{
    struct fixture *fx = *state;
    struct http_resp resp;
    struct json_object *o = json_object_new_object();
    char *hdr, *body, cl[64];

    json_object_object_add(o, "url", json_object_new_string("http://x/y"));
    http_resp_init(&resp);
    http_resp_json(&resp, 201, o);
    assert_int_equal(http_resp_header(&resp, "Location", "/api/x/1"), BT_OK);
    assert_int_equal(http_resp_header(&resp, "X-Bad", "a\r\nSet-Cookie: x=1"), BT_ERR);
    assert_int_equal(http_resp_header(&resp, "X-Bad: y", "v"), BT_ERR);
    hdr = render(&resp, start(fx, NULL, NULL), &body);
    assert_string_equal(body, "{\"url\":\"http://x/y\"}"); /* slashes not escaped */
    assert_int_equal(strncmp(hdr, "Status: 201 Created\r\n", 21), 0);
    assert_non_null(strstr(hdr, "Content-Type: application/json\r\n"));
    snprintf(cl, sizeof(cl), "Content-Length: %zu", strlen(body));
    assert_non_null(strstr(hdr, cl));
    assert_non_null(strstr(hdr, "Location: /api/x/1"));
    assert_null(strstr(hdr, "Set-Cookie"));
    assert_null(resp.json); /* rendering released the body */
}

static void empty_answers_have_no_body(void **state)
{
    struct fixture *fx = *state;
    struct http_resp resp;
    char *hdr, *body;

    http_resp_init(&resp);
    http_resp_json(&resp, 200, json_object_new_object());
    http_resp_empty(&resp, 204); /* replaces (and frees) the JSON body */
    hdr = render(&resp, start(fx, NULL, NULL), &body);
    assert_string_equal(hdr, "Status: 204 No Content");
    assert_string_equal(body, "");
}

static void header_cap(void **state)
{
    struct http_resp resp;

    (void)state;
    http_resp_init(&resp);
    for (int i = 0; i < HTTP_MAX_RESP_HEADERS; i++)
        assert_int_equal(http_resp_header(&resp, "X-A", "1"), BT_OK);
    assert_int_equal(http_resp_header(&resp, "X-A", "1"), BT_ERR);
    http_resp_clear(&resp);
}

/* Renders the problem for e and returns the parsed body (caller puts). */
static struct json_object *problem(struct fixture *fx, const struct bt_err *e,
                                   const char *const *params, char **hdr_out)
{
    struct http_req *req = start(fx, params, NULL);
    struct http_resp resp;
    char *hdr, *body;
    struct json_object *o;

    http_resp_init(&resp);
    http_resp_json(&resp, 200, json_object_new_string("partial answer"));
    http_resp_problem(&resp, req, e);
    hdr = render(&resp, req, &body);
    assert_non_null(strstr(hdr, "Content-Type: application/problem+json\r\n"));
    /* whatever went in, the answer is valid UTF-8 and valid JSON */
    assert_true(utf8_valid(body, strlen(body)));
    o = json_tokener_parse(body);
    assert_non_null(o);
    assert_null(strstr(body, "partial answer"));
    if (hdr_out)
        *hdr_out = strdup(hdr);
    return o;
}

static const char *str_of(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static void problem_json_has_the_rfc9457_shape(void **state)
{
    static const char *const p[] = {"DOCUMENT_URI", "/api/companies", "REQUEST_ID", "r-42", NULL};
    struct fixture *fx = *state;
    struct bt_err e;
    struct json_object *o, *errs, *f0, *st;
    char *hdr;

    err_clear(&e);
    err_field(&e, "name", "too_short", "must be at least %d characters", 3);
    err_field(&e, "region", "enum", "must be one of texas, quebec");
    err_check_fields(&e);
    o = problem(fx, &e, p, &hdr);
    assert_string_equal(str_of(o, "type"), "/problems/validation");
    assert_string_equal(str_of(o, "title"), "Invalid request");
    assert_true(json_object_object_get_ex(o, "status", &st));
    assert_true(json_object_is_type(st, json_type_int));
    assert_int_equal(json_object_get_int(st), 400);
    assert_string_equal(str_of(o, "detail"), "2 fields are invalid");
    assert_string_equal(str_of(o, "instance"), "/api/companies");
    assert_string_equal(str_of(o, "request_id"), "r-42");
    assert_true(json_object_object_get_ex(o, "errors", &errs));
    assert_int_equal(json_object_array_length(errs), 2);
    f0 = json_object_array_get_idx(errs, 0);
    assert_string_equal(str_of(f0, "field"), "name");
    assert_string_equal(str_of(f0, "code"), "too_short");
    assert_string_equal(str_of(f0, "message"), "must be at least 3 characters");
    assert_int_equal(strncmp(hdr, "Status: 400 Bad Request\r\n", 25), 0);
    json_object_put(o);
    free(hdr);
}

static void problem_without_fields_or_request_id(void **state)
{
    struct fixture *fx = *state;
    struct bt_err e;
    struct json_object *o, *v;

    err_clear(&e);
    err_set(&e, 404, "not-found", "no such endpoint");
    o = problem(fx, &e, NULL, NULL);
    assert_false(json_object_object_get_ex(o, "errors", &v));
    assert_false(json_object_object_get_ex(o, "request_id", &v));
    assert_string_equal(str_of(o, "instance"), "/");
    assert_string_equal(str_of(o, "title"), "Not found");
    json_object_put(o);
}

static void internal_error_never_leaks(void **state)
{
    static const char *const p[] = {"REQUEST_ID", "req-9", NULL};
    struct fixture *fx = *state;
    struct bt_err e;
    struct json_object *o, *v;
    char *hdr;

    err_clear(&e);
    err_internal(&e, "PQprepare: relation \"users\" does not exist; dsn password=hunter2");
    o = problem(fx, &e, p, &hdr);
    assert_int_equal(strncmp(hdr, "Status: 500 Internal Server Error", 33), 0);
    assert_string_equal(str_of(o, "type"), "/problems/internal");
    assert_string_equal(str_of(o, "request_id"), "req-9"); /* what the user can quote */
    assert_null(strstr(json_object_to_json_string(o), "hunter2"));
    assert_null(strstr(json_object_to_json_string(o), "relation"));
    assert_false(json_object_object_get_ex(o, "internal", &v));
    json_object_put(o);
    free(hdr);
}

static void unset_or_non_error_status_becomes_500(void **state)
{
    struct fixture *fx = *state;
    struct bt_err e;
    struct json_object *o, *st;

    err_clear(&e); /* a handler failed without filling the error */
    o = problem(fx, &e, NULL, NULL);
    assert_true(json_object_object_get_ex(o, "status", &st));
    assert_int_equal(json_object_get_int(st), 500);
    assert_string_equal(str_of(o, "type"), "/problems/internal");
    json_object_put(o);
    err_set(&e, 302, "found", "not an error");
    o = problem(fx, &e, NULL, NULL);
    assert_true(json_object_object_get_ex(o, "status", &st));
    assert_int_equal(json_object_get_int(st), 500);
    json_object_put(o);
}

static void retry_after_is_sent_with_503(void **state)
{
    struct fixture *fx = *state;
    struct bt_err e;
    struct json_object *o;
    char *hdr;

    err_clear(&e);
    err_unavailable(&e, 2, "redis: connection refused");
    o = problem(fx, &e, NULL, &hdr);
    assert_non_null(strstr(hdr, "Status: 503 Service Unavailable"));
    assert_non_null(strstr(hdr, "\r\nRetry-After: 2"));
    assert_null(strstr(json_object_to_json_string(o), "redis"));
    json_object_put(o);
    free(hdr);
}

static void client_bytes_in_a_problem_stay_valid_utf8(void **state)
{
    static const char *const p[] = {"DOCUMENT_URI", "/api/\xff\xfe/x\"y", "REQUEST_ID",
                                    "id\xc0\xaf\n", NULL};
    struct fixture *fx = *state;
    struct bt_err e;
    struct json_object *o, *errs;

    err_clear(&e);
    err_field(&e, "bad\xff\x01", "unknown", "unknown field");
    err_check_fields(&e);
    o = problem(fx, &e, p, NULL); /* asserts the body is valid UTF-8 JSON */
    assert_string_equal(str_of(o, "instance"), "/api/?"
                                               "?/x\"y");
    assert_string_equal(str_of(o, "request_id"), "id?? ");
    json_object_object_get_ex(o, "errors", &errs);
    assert_string_equal(str_of(json_object_array_get_idx(errs, 0), "field"), "bad??");
    json_object_put(o);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(request_fields_come_from_the_params),
        T(missing_params_have_safe_defaults),
        T(query_is_decoded_and_first_occurrence_wins),
        T(malformed_queries_are_400),
        T(too_many_query_params_are_400),
        T(json_object_body_is_parsed),
        T(json_content_types),
        T(oversized_body_is_413_before_reading),
        T(short_body_is_400),
        T(malformed_bodies_are_400),
        T(nesting_is_capped),
        T(invalid_utf8_passes_through_to_the_validator),
        T(json_answer_renders_status_headers_and_length),
        T(empty_answers_have_no_body),
        T(header_cap),
        T(problem_json_has_the_rfc9457_shape),
        T(problem_without_fields_or_request_id),
        T(internal_error_never_leaks),
        T(unset_or_non_error_status_becomes_500),
        T(retry_after_is_sent_with_503),
        T(client_bytes_in_a_problem_stay_valid_utf8),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
