/*
 * valid.c - the rule interpreter behind valid.h.
 *
 * It never stops at the first problem: a client fixing a form wants every
 * invalid field at once.  Messages are written for players, codes for
 * programs.  Nothing here allocates except the JSON view of a query string.
 */
#include "valid.h"
#include "http.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t pow10i(int n)
{
    int64_t p = 1;

    while (n-- > 0)
        p *= 10;
    return p;
}

int valid_parse_decimal(const char *s, int scale, int64_t *out, const char **why)
{
    const char *p = s;
    bool neg = false, dot = false;
    int frac = 0, digits = 0;
    int64_t v = 0;

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!*p) {
        *why = "format";
        return BT_ERR;
    }
    for (; *p; p++) {
        if (*p == '.') {
            if (dot || digits == 0) {
                *why = "format";
                return BT_ERR;
            }
            dot = true;
            continue;
        }
        if (!isdigit((unsigned char)*p)) {
            *why = "format";
            return BT_ERR;
        }
        digits++;
        if (dot && ++frac > scale) {
            if (*p != '0') {
                *why = "precision";
                return BT_ERR;
            }
            continue; /* trailing zeros beyond the scale are harmless */
        }
        if (v > (INT64_MAX - (*p - '0')) / 10) {
            *why = "range";
            return BT_ERR;
        }
        v = v * 10 + (*p - '0');
    }
    if (dot && frac == 0) {
        *why = "format"; /* "1." */
        return BT_ERR;
    }
    if (frac < scale) {
        int64_t m = pow10i(scale - (frac > scale ? scale : frac));
        if (v > INT64_MAX / m) {
            *why = "range";
            return BT_ERR;
        }
        v *= m;
    }
    *out = neg ? -v : v;
    return BT_OK;
}

void valid_format_decimal(int64_t v, int scale, char *buf, size_t bufsz)
{
    int64_t p = pow10i(scale);
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ip = a / (uint64_t)p, fp = a % (uint64_t)p;
    char frac[24];
    int n;

    if (scale == 0 || fp == 0) {
        snprintf(buf, bufsz, "%s%" PRIu64, v < 0 ? "-" : "", ip);
        return;
    }
    snprintf(frac, sizeof(frac), "%0*" PRIu64, scale, fp);
    n = (int)strlen(frac);
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    snprintf(buf, bufsz, "%s%" PRIu64 ".%s", v < 0 ? "-" : "", ip, frac);
}

bool valid_email(const char *s)
{
    const char *at = strchr(s, '@'), *dot, *p;
    size_t len = strlen(s);

    if (!at || at == s || strchr(at + 1, '@') || len > 254 || (size_t)(at - s) > 64)
        return false;
    for (p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7F || strchr("()<>[]\\,;:\"", c))
            return false;
    }
    dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0' || strlen(dot + 1) < 2)
        return false;
    if (strstr(at + 1, "..") || at[1] == '-' || s[len - 1] == '.' || s[0] == '.' || at[-1] == '.')
        return false;
    return true;
}

static const char *type_word(enum valid_type t)
{
    switch (t) {
    case VT_STRING:
        return "a string";
    case VT_INT:
        return "an integer";
    case VT_ID:
        return "a positive integer id";
    case VT_BOOL:
        return "a boolean";
    case VT_ENUM:
        return "one of the listed values";
    case VT_DECIMAL:
        return "a decimal string such as \"0.015\"";
    }
    return "valid";
}

/* Reads an integer from a JSON int, or from a string when strings are allowed. */
static bool get_int(struct json_object *v, unsigned options, int64_t *out)
{
    if (json_object_is_type(v, json_type_int)) {
        errno = 0;
        *out = json_object_get_int64(v);
        /* json-c saturates out-of-range values; treat them as out of range */
        if (*out == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
            return false;
        return true;
    }
    if ((options & VALID_STRINGS) && json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end;
        if (!*s || (!isdigit((unsigned char)*s) && *s != '-'))
            return false;
        errno = 0;
        *out = strtoll(s, &end, 10);
        return errno == 0 && *end == '\0';
    }
    return false;
}

static void check_string(const struct valid_rule *r, struct json_object *v, void *slot,
                         struct bt_err *err)
{
    const char *s;
    size_t len, n;

    if (!json_object_is_type(v, json_type_string)) {
        err_field(err, r->name, "type", "must be %s", type_word(r->type));
        return;
    }
    s = json_object_get_string(v);
    len = (size_t)json_object_get_string_len(v);
    if (!utf8_valid(s, len)) {
        err_field(err, r->name, "encoding", "must be valid UTF-8 text without NUL characters");
        return;
    }
    n = (r->flags & VF_BYTES) ? len : utf8_count(s, len);
    if ((int64_t)n < r->min) {
        err_field(err, r->name, n == 0 ? "required" : "too_short",
                  "must be at least %" PRId64 " %s long", r->min,
                  (r->flags & VF_BYTES) ? "bytes" : "characters");
        return;
    }
    if (r->max > 0 && (int64_t)n > r->max) {
        err_field(err, r->name, "too_long", "must be at most %" PRId64 " %s long", r->max,
                  (r->flags & VF_BYTES) ? "bytes" : "characters");
        return;
    }
    if ((r->flags & VF_PRINTABLE) && !utf8_printable(s, len)) {
        err_field(err, r->name, "format", "must not contain control characters");
        return;
    }
    *(const char **)slot = s;
}

static void check_enum(const struct valid_rule *r, struct json_object *v, void *slot,
                       struct bt_err *err)
{
    const char *s;
    char list[ERR_MSG_LEN - 24] = "";
    size_t i;

    if (json_object_is_type(v, json_type_string)) {
        s = json_object_get_string(v);
        for (i = 0; r->choices[i]; i++) {
            if (strcmp(s, r->choices[i]) == 0) {
                *(const char **)slot = r->choices[i];
                return;
            }
        }
    }
    for (i = 0; r->choices[i]; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", r->choices[i]);
    }
    err_field(err, r->name, "enum", "must be one of: %s", list);
}

static void check_number(const struct valid_rule *r, struct json_object *v, unsigned options,
                         void *slot, struct bt_err *err)
{
    int64_t n;

    if (!get_int(v, options, &n)) {
        err_field(err, r->name, "type", "must be %s", type_word(r->type));
        return;
    }
    if (n < r->min || n > r->max) {
        if (r->type == VT_ID)
            err_field(err, r->name, "range", "must be a positive integer id");
        else
            err_field(err, r->name, "range", "must be between %" PRId64 " and %" PRId64, r->min,
                      r->max);
        return;
    }
    if (r->step > 0 && n % r->step != 0) {
        err_field(err, r->name, "step", "must be a multiple of %" PRId64, r->step);
        return;
    }
    *(int64_t *)slot = n;
}

static void check_decimal(const struct valid_rule *r, struct json_object *v, void *slot,
                          struct bt_err *err)
{
    const char *why = NULL;
    char lo[32], hi[32], st[32];
    int64_t n;

    if (!json_object_is_type(v, json_type_string)) {
        err_field(err, r->name, "type", "must be %s", type_word(r->type));
        return;
    }
    if (valid_parse_decimal(json_object_get_string(v), r->scale, &n, &why) != BT_OK) {
        if (strcmp(why, "precision") == 0)
            err_field(err, r->name, "precision", "must have at most %d decimal places", r->scale);
        else if (strcmp(why, "range") == 0)
            err_field(err, r->name, "range", "is too large");
        else
            err_field(err, r->name, "format", "must be %s", type_word(r->type));
        return;
    }
    if (n < r->min || n > r->max) {
        valid_format_decimal(r->min, r->scale, lo, sizeof(lo));
        valid_format_decimal(r->max, r->scale, hi, sizeof(hi));
        err_field(err, r->name, "range", "must be between %s and %s", lo, hi);
        return;
    }
    if (r->step > 0 && n % r->step != 0) {
        valid_format_decimal(r->step, r->scale, st, sizeof(st));
        err_field(err, r->name, "step", "must be a multiple of %s", st);
        return;
    }
    *(int64_t *)slot = n;
}

static void check_bool(const struct valid_rule *r, struct json_object *v, unsigned options,
                       void *slot, struct bt_err *err)
{
    if (json_object_is_type(v, json_type_boolean)) {
        *(bool *)slot = json_object_get_boolean(v);
        return;
    }
    if ((options & VALID_STRINGS) && json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            *(bool *)slot = s[0] == 't';
            return;
        }
    }
    err_field(err, r->name, "type", "must be %s", type_word(r->type));
}

int valid_object(struct json_object *obj, const struct valid_rule *rules, void *out,
                 unsigned options, struct bt_err *err)
{
    const struct valid_rule *r;
    struct json_object *v;

    if (!obj || !json_object_is_type(obj, json_type_object))
        return err_set(err, 400, "malformed-json", "the body must be a JSON object");
    for (r = rules; r->name; r++) {
        void *slot = (char *)out + r->offset;
        if (!json_object_object_get_ex(obj, r->name, &v) ||
            (json_object_is_type(v, json_type_null) && (r->flags & VF_NULLABLE))) {
            if (r->flags & VF_REQUIRED)
                err_field(err, r->name, "required", "is required");
            continue;
        }
        switch (r->type) {
        case VT_STRING:
            check_string(r, v, slot, err);
            break;
        case VT_ENUM:
            check_enum(r, v, slot, err);
            break;
        case VT_INT:
        case VT_ID:
            check_number(r, v, options, slot, err);
            break;
        case VT_DECIMAL:
            check_decimal(r, v, slot, err);
            break;
        case VT_BOOL:
            check_bool(r, v, options, slot, err);
            break;
        }
    }
    if (!(options & VALID_ALLOW_UNKNOWN)) {
        json_object_object_foreach(obj, key, val)
        {
            BT_UNUSED(val);
            for (r = rules; r->name; r++)
                if (strcmp(r->name, key) == 0)
                    break;
            if (!r->name)
                err_field(err, key, "unknown", "is not a known field");
        }
    }
    return err_check_fields(err);
}

static void json_put(void *p)
{
    json_object_put(p);
}

int valid_query(struct http_req *req, const struct valid_rule *rules, void *out, struct bt_err *err)
{
    struct json_object *obj;
    int i;

    if (http_query_parse(req, err) != BT_OK)
        return BT_ERR;
    obj = json_object_new_object();
    if (!obj || arena_defer(req->arena, json_put, obj) != BT_OK)
        return err_internal(err, "out of memory building the query view");
    for (i = 0; i < req->nquery; i++) {
        if (json_object_object_get_ex(obj, req->query_names[i], NULL))
            continue; /* first occurrence wins */
        json_object_object_add(obj, req->query_names[i],
                               json_object_new_string(req->query_values[i]));
    }
    return valid_object(obj, rules, out, VALID_STRINGS, err);
}
