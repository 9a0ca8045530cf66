/*
 * route.c - segment-by-segment matching of request paths (see route.h).
 *
 * Tables are small (a dozen routes per service), so a linear scan is both
 * the simplest and the fastest choice.  Captures are copied into the arena,
 * bounded by ROUTE_MAX_SEGMENT; an empty segment never matches a capture.
 */
#include "route.h"
#include "http.h"

#include <stdio.h>
#include <string.h>

/* Matches path against pattern; stores captures in req when store is true. */
static bool match(const char *pattern, const char *path, struct http_req *req, bool store)
{
    const char *p = pattern, *s = path;
    int ncap = 0;

    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t slen = se ? (size_t)(se - s) : strlen(s);
        if (plen > 0 && p[0] == ':') {
            if (slen == 0 || slen > ROUTE_MAX_SEGMENT || ncap >= HTTP_MAX_PARAMS)
                return false;
            if (store) {
                req->param_names[ncap] = arena_strndup(req->arena, p + 1, plen - 1);
                req->param_values[ncap] = arena_strndup(req->arena, s, slen);
                if (!req->param_names[ncap] || !req->param_values[ncap])
                    return false;
            }
            ncap++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
    }
    if (*p || *s)
        return false;
    if (store)
        req->nparams = ncap;
    return true;
}

enum route_result route_match(const struct route *routes, size_t n, struct http_req *req,
                              const char **allow)
{
    char methods[128] = "";
    size_t i;

    *allow = NULL;
    for (i = 0; i < n; i++) {
        if (!match(routes[i].pattern, req->path, req, false))
            continue;
        if (strcmp(routes[i].method, req->method) == 0) {
            if (!match(routes[i].pattern, req->path, req, true))
                return ROUTE_NOT_FOUND; /* arena exhausted */
            req->route = &routes[i];
            return ROUTE_FOUND;
        }
        if (!strstr(methods, routes[i].method)) {
            size_t len = strlen(methods);
            snprintf(methods + len, sizeof(methods) - len, "%s%s", len ? ", " : "",
                     routes[i].method);
        }
    }
    if (methods[0]) {
        *allow = arena_strdup(req->arena, methods);
        return ROUTE_METHOD_NOT_ALLOWED;
    }
    return ROUTE_NOT_FOUND;
}
