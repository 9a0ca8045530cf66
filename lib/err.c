/*
 * err.c - filling struct bt_err (see err.h).
 *
 * Everything here is bounded and allocation-free.  Strings that may come
 * from a client (field names) are sanitised into valid UTF-8 on the way in,
 * so that an error can never make the JSON answer malformed.
 */
#include "err.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct slug_title {
    const char *slug;
    const char *title;
};

static const struct slug_title titles[] = {
    {"validation", "Invalid request"},
    {"malformed-json", "Malformed JSON body"},
    {"payload-too-large", "Request body too large"},
    {"unsupported-media-type", "Unsupported media type"},
    {"not-found", "Not found"},
    {"method-not-allowed", "Method not allowed"},
    {"unauthorized", "Authentication required"},
    {"forbidden", "Forbidden"},
    {"conflict", "Conflict"},
    {"rate-limited", "Too many requests"},
    {"unavailable", "Service temporarily unavailable"},
    {"internal", "Internal server error"},
};

void err_clear(struct bt_err *e)
{
    e->status = 0;
    e->type = NULL;
    e->detail[0] = '\0';
    e->internal[0] = '\0';
    e->retry_after = 0;
    e->nfields = 0;
    e->dropped_fields = 0;
}

bool err_is_set(const struct bt_err *e)
{
    return e->status != 0;
}

int err_set(struct bt_err *e, int status, const char *type, const char *fmt, ...)
{
    va_list ap;

    e->status = status;
    e->type = type;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    utf8_sanitize(e->detail, sizeof(e->detail));
    return BT_ERR;
}

int err_internal(struct bt_err *e, const char *fmt, ...)
{
    va_list ap;

    e->status = 500;
    e->type = "internal";
    snprintf(e->detail, sizeof(e->detail), "an unexpected error occurred; quote the request id");
    va_start(ap, fmt);
    vsnprintf(e->internal, sizeof(e->internal), fmt, ap);
    va_end(ap);
    utf8_sanitize(e->internal, sizeof(e->internal));
    return BT_ERR;
}

int err_unavailable(struct bt_err *e, int retry_after, const char *fmt, ...)
{
    va_list ap;

    e->status = 503;
    e->type = "unavailable";
    e->retry_after = retry_after;
    snprintf(e->detail, sizeof(e->detail), "a backing service is unavailable; retry shortly");
    va_start(ap, fmt);
    vsnprintf(e->internal, sizeof(e->internal), fmt, ap);
    va_end(ap);
    utf8_sanitize(e->internal, sizeof(e->internal));
    return BT_ERR;
}

void err_field(struct bt_err *e, const char *field, const char *code, const char *fmt, ...)
{
    struct err_field *f;
    va_list ap;

    if (e->nfields >= ERR_MAX_FIELDS) {
        e->dropped_fields++;
        return;
    }
    f = &e->fields[e->nfields++];
    utf8_copy_sanitized(f->field, sizeof(f->field), field ? field : "");
    snprintf(f->code, sizeof(f->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
    utf8_sanitize(f->message, sizeof(f->message));
}

int err_check_fields(struct bt_err *e)
{
    int total;

    if (e->nfields == 0)
        return BT_OK;
    total = e->nfields + e->dropped_fields;
    return err_set(e, 400, "validation", "%d field%s invalid", total, total == 1 ? " is" : "s are");
}

const char *err_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Server Error";
    }
}

const char *err_title(const struct bt_err *e)
{
    size_t i;

    if (e->type) {
        for (i = 0; i < BT_ARRAY_LEN(titles); i++)
            if (strcmp(titles[i].slug, e->type) == 0)
                return titles[i].title;
    }
    return err_reason(e->status);
}
