/*
 * http.c - request parsing and answer rendering (see http.h).
 *
 * Nothing here trusts the client: sizes are checked before reading, the JSON
 * parser runs in strict mode with a depth cap, query strings are decoded
 * into the arena with a count cap, and every string copied into an answer is
 * either ours or sanitised.  Rendering cannot fail for lack of memory in a
 * way that yields a malformed answer: if the JSON body cannot be serialised
 * we fall back to a fixed 500 problem.
 */
#include "http.h"
#include "route.h"
#include "utf8.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char fallback_500[] =
    "{\"type\":\"/problems/internal\",\"title\":\"Internal server error\",\"status\":500,"
    "\"detail\":\"the answer could not be rendered\"}";

int64_t http_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *param_or(struct http_req *req, const char *name, const char *def)
{
    const char *v = req->getparam(req->src, name);

    return v ? v : def;
}

void http_req_init(struct http_req *req, struct arena *arena, void *src,
                   const char *(*getparam)(void *, const char *),
                   long (*readbody)(void *, char *, long))
{
    const char *cl;
    char *end;

    memset(req, 0, sizeof(*req));
    req->arena = arena;
    req->src = src;
    req->getparam = getparam;
    req->readbody = readbody;
    req->nquery = -1;
    req->started_us = http_now_us();
    req->method = param_or(req, "REQUEST_METHOD", "GET");
    /* DOCUMENT_URI, not REQUEST_URI: under auth_request the latter is the
     * original URI, and DOCUMENT_URI is already normalised by nginx. */
    req->path = param_or(req, "DOCUMENT_URI", param_or(req, "SCRIPT_NAME", "/"));
    req->query = param_or(req, "QUERY_STRING", "");
    req->request_id = param_or(req, "REQUEST_ID", "");
    req->remote_addr = param_or(req, "REMOTE_ADDR", "");
    req->content_type = param_or(req, "CONTENT_TYPE", "");
    cl = param_or(req, "CONTENT_LENGTH", "");
    req->content_length = strtol(cl, &end, 10);
    if (end == cl || *end != '\0' || req->content_length < 0)
        req->content_length = 0;
}

const char *http_header(struct http_req *req, const char *name)
{
    char key[80];
    size_t i, n = strlen(name);

    if (n + 6 > sizeof(key))
        return NULL;
    memcpy(key, "HTTP_", 5);
    for (i = 0; i < n; i++)
        key[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
    key[5 + n] = '\0';
    return req->getparam(req->src, key);
}

const char *http_param(const struct http_req *req, const char *name)
{
    int i;

    for (i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes s[0..n) (percent escapes and '+') into the arena; NULL on a bad escape. */
static char *url_decode(struct arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1), *o = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h, l;
            if (i + 2 >= n)
                return NULL;
            h = hexval((unsigned char)s[i + 1]);
            l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return NULL;
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else if (s[i] == '+') {
            *o++ = ' ';
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

int http_query_parse(struct http_req *req, struct bt_err *err)
{
    const char *p = req->query, *amp, *eq;

    if (req->nquery >= 0)
        return BT_OK;
    req->nquery = 0;
    while (*p) {
        size_t len;
        char *name, *value;

        amp = strchr(p, '&');
        len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            if (req->nquery >= HTTP_MAX_QUERY) {
                /* Not parsed: a later call must fail again, not see a prefix. */
                req->nquery = -1;
                return err_set(err, 400, "validation", "too many query parameters (max %d)",
                               HTTP_MAX_QUERY);
            }
            eq = memchr(p, '=', len);
            name = url_decode(req->arena, p, eq ? (size_t)(eq - p) : len);
            value = eq ? url_decode(req->arena, eq + 1, len - (size_t)(eq - p) - 1)
                       : arena_strdup(req->arena, "");
            if (!name || !value) {
                req->nquery = -1;
                return err_set(err, 400, "validation", "malformed query string");
            }
            req->query_names[req->nquery] = name;
            req->query_values[req->nquery] = value;
            req->nquery++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return BT_OK;
}

const char *http_query(struct http_req *req, const char *name)
{
    struct bt_err ignored;
    int i;

    err_clear(&ignored);
    if (http_query_parse(req, &ignored) != BT_OK)
        return NULL;
    for (i = 0; i < req->nquery; i++)
        if (strcmp(req->query_names[i], name) == 0)
            return req->query_values[i];
    return NULL;
}

int http_read_body(struct http_req *req, long max, struct bt_err *err)
{
    long want = req->content_length, got = 0, n;

    if (req->body)
        return BT_OK;
    if (want > max)
        return err_set(err, 413, "payload-too-large", "the body is %ld bytes; the limit is %ld",
                       want, max);
    req->body = arena_alloc(req->arena, (size_t)want + 1);
    if (!req->body)
        return err_internal(err, "cannot allocate %ld bytes for the body", want);
    while (got < want) {
        n = req->readbody ? req->readbody(req->src, req->body + got, want - got) : 0;
        if (n <= 0)
            break;
        got += n;
    }
    if (got != want)
        return err_set(err, 400, "malformed-json", "the body ended after %ld of %ld bytes", got,
                       want);
    req->body[got] = '\0';
    req->body_len = (size_t)got;
    return BT_OK;
}

static bool is_json_type(const char *ct)
{
    size_t n = strlen("application/json");

    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static void json_put(void *p)
{
    json_object_put(p);
}

/* json-c (0.16) accepts NaN, Infinity and overflowing numbers such as 1e999
 * even in strict mode.  None of them is JSON, and echoing one back would
 * render a malformed answer, so they are refused here.  Recursion is bounded
 * by HTTP_JSON_MAX_DEPTH. */
static bool json_all_finite(struct json_object *o)
{
    size_t i, n;

    switch (json_object_get_type(o)) {
    case json_type_double:
        return isfinite(json_object_get_double(o));
    case json_type_array:
        n = json_object_array_length(o);
        for (i = 0; i < n; i++)
            if (!json_all_finite(json_object_array_get_idx(o, i)))
                return false;
        return true;
    case json_type_object: {
        json_object_object_foreach(o, key, val)
        {
            BT_UNUSED(key);
            if (!json_all_finite(val))
                return false;
        }
        return true;
    }
    default:
        return true;
    }
}

int http_read_json(struct http_req *req, long max, struct bt_err *err)
{
    struct json_tokener *tok;
    struct json_object *obj;
    enum json_tokener_error jerr;
    size_t consumed;

    if (req->json)
        return BT_OK;
    if (!is_json_type(req->content_type))
        return err_set(err, 415, "unsupported-media-type", "send the body as application/json");
    if (http_read_body(req, max, err) != BT_OK)
        return BT_ERR;
    if (req->body_len == 0)
        return err_set(err, 400, "malformed-json", "a JSON object body is required");
    tok = json_tokener_new_ex(HTTP_JSON_MAX_DEPTH);
    if (!tok)
        return err_internal(err, "json_tokener_new_ex failed");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
    jerr = json_tokener_get_error(tok);
    consumed = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success || !obj) {
        json_object_put(obj);
        if (jerr == json_tokener_error_depth)
            return err_set(err, 400, "malformed-json", "JSON nested deeper than %d levels",
                           HTTP_JSON_MAX_DEPTH);
        return err_set(err, 400, "malformed-json", "invalid JSON: %s",
                       jerr == json_tokener_continue ? "unexpected end of input"
                                                     : json_tokener_error_desc(jerr));
    }
    while (consumed < req->body_len && isspace((unsigned char)req->body[consumed]))
        consumed++;
    if (consumed != req->body_len) {
        json_object_put(obj);
        return err_set(err, 400, "malformed-json", "unexpected data after the JSON value");
    }
    arena_defer(req->arena, json_put, obj);
    if (!json_object_is_type(obj, json_type_object))
        return err_set(err, 400, "malformed-json", "the body must be a JSON object");
    if (!json_all_finite(obj))
        return err_set(err, 400, "malformed-json",
                       "invalid JSON: numbers must be finite (no NaN or Infinity)");
    req->json = obj;
    return BT_OK;
}

void http_resp_init(struct http_resp *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
}

void http_resp_clear(struct http_resp *r)
{
    json_object_put(r->json);
    http_resp_init(r);
}

int http_resp_header(struct http_resp *r, const char *name, const char *value)
{
    if (r->nheaders >= HTTP_MAX_RESP_HEADERS || strpbrk(value, "\r\n") || strpbrk(name, "\r\n: "))
        return BT_ERR;
    r->header_names[r->nheaders] = name;
    r->header_values[r->nheaders] = value;
    r->nheaders++;
    return BT_OK;
}

void http_resp_json(struct http_resp *r, int status, struct json_object *body)
{
    json_object_put(r->json);
    r->json = body;
    r->body = NULL;
    r->body_len = 0;
    r->status = status;
    r->content_type = "application/json";
}

void http_resp_raw(struct http_resp *r, int status, const char *content_type, const char *body,
                   size_t len)
{
    json_object_put(r->json);
    r->json = NULL;
    r->status = status;
    r->content_type = content_type;
    r->body = body;
    r->body_len = len;
}

void http_resp_empty(struct http_resp *r, int status)
{
    http_resp_raw(r, status, NULL, NULL, 0);
}

void http_resp_problem(struct http_resp *r, const struct http_req *req, const struct bt_err *e)
{
    struct json_object *o = json_object_new_object(), *errs;
    char type[64];
    int status = e->status >= 400 ? e->status : 500;
    int i;

    /* Keep headers that still make sense on an error (e.g. Allow, Retry-After
     * set by the caller), drop the body. */
    snprintf(type, sizeof(type), "/problems/%s", e->type ? e->type : "internal");
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "title", json_object_new_string(err_title(e)));
    json_object_object_add(o, "status", json_object_new_int(status));
    json_object_object_add(o, "detail", json_object_new_string(e->detail));
    if (req) {
        char inst[256];
        utf8_copy_sanitized(inst, sizeof(inst), req->path ? req->path : "/");
        json_object_object_add(o, "instance", json_object_new_string(inst));
        if (req->request_id && *req->request_id) {
            utf8_copy_sanitized(inst, sizeof(inst), req->request_id);
            json_object_object_add(o, "request_id", json_object_new_string(inst));
        }
    }
    if (e->nfields > 0) {
        errs = json_object_new_array();
        for (i = 0; i < e->nfields; i++) {
            struct json_object *f = json_object_new_object();
            json_object_object_add(f, "field", json_object_new_string(e->fields[i].field));
            json_object_object_add(f, "code", json_object_new_string(e->fields[i].code));
            json_object_object_add(f, "message", json_object_new_string(e->fields[i].message));
            json_object_array_add(errs, f);
        }
        json_object_object_add(o, "errors", errs);
    }
    http_resp_json(r, status, o);
    r->content_type = "application/problem+json";
    if (e->retry_after > 0 && req && req->arena) {
        char *v = arena_printf(req->arena, "%d", e->retry_after);
        if (v)
            http_resp_header(r, "Retry-After", v);
    }
}

int http_render(struct http_resp *r, const struct http_req *req, struct buf *out)
{
    const char *body = r->body;
    size_t len = r->body_len;
    int status = r->status, i, rc = BT_OK;

    BT_UNUSED(req);
    buf_reset(out);
    if (r->json) {
        body = json_object_to_json_string_ext(r->json, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!body) {
            body = fallback_500;
            status = 500;
            r->content_type = "application/problem+json";
        }
        len = strlen(body);
    }
    rc |= buf_printf(out, "Status: %d %s\r\n", status, err_reason(status));
    if (r->content_type)
        rc |= buf_printf(out, "Content-Type: %s\r\n", r->content_type);
    if (status != 204 && status != 304)
        rc |= buf_printf(out, "Content-Length: %zu\r\n", len);
    for (i = 0; i < r->nheaders; i++)
        rc |= buf_printf(out, "%s: %s\r\n", r->header_names[i], r->header_values[i]);
    rc |= buf_puts(out, "\r\n");
    if (status != 204 && status != 304 && len)
        rc |= buf_append(out, body, len);
    json_object_put(r->json);
    r->json = NULL;
    return rc ? BT_ERR : BT_OK;
}
