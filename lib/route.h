/*
 * route.h - a service's route table and the matcher.
 *
 * Each service declares a static table of routes: method, a pattern whose
 * segments are literals or ":name" captures, the handler, what the request
 * needs before the handler runs (authentication, admin role, a JSON body,
 * a loopback caller) and its rate limit.  lib/app.c does those steps, so a
 * handler starts with a validated caller and body and reads like a story.
 */
#ifndef BT_ROUTE_H
#define BT_ROUTE_H

#include <stddef.h>
#include "err.h"

struct app;
struct http_req;
struct http_resp;

typedef int (*route_handler)(struct app *app, struct http_req *req, struct http_resp *resp,
                             struct bt_err *err);

enum route_flags {
    ROUTE_PUBLIC = 0,
    ROUTE_AUTH = 1u << 0,     /* a valid access token is required (401 otherwise) */
    ROUTE_ADMIN = 1u << 1,    /* ... and the admin role (403 otherwise); implies AUTH */
    ROUTE_JSON = 1u << 2,     /* a JSON object body is read and parsed first */
    ROUTE_LOOPBACK = 1u << 3, /* only callers on 127.0.0.0/8 or ::1 (403 otherwise) */
    ROUTE_NO_RATE = 1u << 4,  /* exempt from rate limiting (health checks) */
};

struct route {
    const char *method;
    const char *pattern;
    route_handler handler;
    unsigned flags;
    int rate_limit;    /* requests per window per caller; 0 = the service default */
    int rate_window_s; /* window length; 0 = the service default */
};

#define ROUTE_MAX_SEGMENT 128

enum route_result { ROUTE_FOUND = 0, ROUTE_NOT_FOUND = 1, ROUTE_METHOD_NOT_ALLOWED = 2 };

/* Finds the route for req->method and req->path, storing it and its captures
 * in req.  On ROUTE_METHOD_NOT_ALLOWED, *allow (arena) lists the methods the
 * path accepts, for the Allow header. */
enum route_result route_match(const struct route *routes, size_t n, struct http_req *req,
                              const char **allow);

#endif
