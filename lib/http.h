/*
 * http.h - one request and its answer, independent of FastCGI.
 *
 * A request reads its CGI parameters through a callback (FastCGI params in
 * production, a table in unit tests), so everything here is testable without
 * a web server.  All strings handed out are borrowed from the request's
 * arena (or from the parameter block) and stay valid until the request ends.
 *
 * The answer is a status, a few headers and either a json-c object (owned by
 * the response until rendered) or a raw body.  Errors are rendered as RFC
 * 9457 application/problem+json.  http_render produces the CGI response
 * bytes ("Status: ..." header block + body) that lib/app.c writes out.
 */
#ifndef BT_HTTP_H
#define BT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "buf.h"
#include "err.h"

struct json_object;
struct route;

#define HTTP_MAX_PARAMS       4
#define HTTP_MAX_QUERY        32
#define HTTP_MAX_RESP_HEADERS 12
#define HTTP_JSON_MAX_DEPTH   16

/* Who is calling, once lib/auth.c authenticated the bearer token. */
struct http_principal {
    bool authenticated;
    int64_t user_id;
    int64_t company_id;
    int64_t world_id;
    bool guest;
    char role[16]; /* "player", "admin" */
    char jti[40];
};

struct http_req {
    struct arena *arena;
    void *src; /* parameter source */
    const char *(*getparam)(void *src, const char *name);
    long (*readbody)(void *src, char *buf, long n); /* bytes read, <0 on error */

    const char *method;     /* REQUEST_METHOD */
    const char *path;       /* DOCUMENT_URI: normalised, without the query */
    const char *query;      /* QUERY_STRING, raw */
    const char *request_id; /* nginx $request_id via the REQUEST_ID param */
    const char *remote_addr;
    const char *content_type;
    long content_length;

    char *body; /* raw body (NUL-terminated) once read */
    size_t body_len;
    struct json_object *json; /* parsed body; released with the arena */

    const struct route *route;
    int nparams;
    const char *param_names[HTTP_MAX_PARAMS];
    const char *param_values[HTTP_MAX_PARAMS];

    int nquery; /* -1 until the query string was parsed */
    const char *query_names[HTTP_MAX_QUERY];
    const char *query_values[HTTP_MAX_QUERY];

    struct http_principal who;
    int64_t started_us; /* monotonic, for the duration in logs/metrics */
};

struct http_resp {
    int status;
    const char *content_type;
    int nheaders;
    const char *header_names[HTTP_MAX_RESP_HEADERS];
    const char *header_values[HTTP_MAX_RESP_HEADERS];
    struct json_object *json; /* owned; freed by http_resp_clear/http_render */
    const char *body;         /* raw body (borrowed) when json is NULL */
    size_t body_len;
};

/* Fills the request line fields from the parameter source. */
void http_req_init(struct http_req *req, struct arena *arena, void *src,
                   const char *(*getparam)(void *, const char *),
                   long (*readbody)(void *, char *, long));

/* Request header by its HTTP name ("Authorization"); NULL when absent. */
const char *http_header(struct http_req *req, const char *name);

/* Path parameter captured by the route (":id"); NULL when absent. */
const char *http_param(const struct http_req *req, const char *name);

/* Decoded query parameter; NULL when absent.  The first occurrence wins. */
const char *http_query(struct http_req *req, const char *name);

/* All decoded query parameters (parsed on first use). BT_ERR when malformed
 * (bad percent escape, too many parameters) with a 400 in *err. */
int http_query_parse(struct http_req *req, struct bt_err *err);

/* Reads the body, refusing more than max bytes (413) or a short read (400). */
int http_read_body(struct http_req *req, long max, struct bt_err *err);

/* Reads and parses a JSON object body: 415 unless the content type is
 * application/json, 413 beyond max, 400 when malformed or not an object. */
int http_read_json(struct http_req *req, long max, struct bt_err *err);

void http_resp_init(struct http_resp *r);
void http_resp_clear(struct http_resp *r);

/* Adds a header; name and value must outlive the response (static or arena).
 * Values with CR or LF are refused (BT_ERR). */
int http_resp_header(struct http_resp *r, const char *name, const char *value);

/* Sets a JSON answer, taking ownership of body. */
void http_resp_json(struct http_resp *r, int status, struct json_object *body);

/* Sets a raw answer; body is borrowed. */
void http_resp_raw(struct http_resp *r, int status, const char *content_type, const char *body,
                   size_t len);

/* Sets an empty answer (204, 304). */
void http_resp_empty(struct http_resp *r, int status);

/* Replaces whatever was set with the problem+json for e. */
void http_resp_problem(struct http_resp *r, const struct http_req *req, const struct bt_err *e);

/* Renders the CGI answer (header block + body) into out. */
int http_render(struct http_resp *r, const struct http_req *req, struct buf *out);

/* Monotonic clock in microseconds. */
int64_t http_now_us(void);

#endif
