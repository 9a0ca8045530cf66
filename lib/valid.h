/*
 * valid.h - declarative validation of JSON bodies and query strings.
 *
 * A handler describes its input once, as a table of rules, and gets either a
 * filled output struct or a 400 problem listing every invalid field:
 *
 *     struct login_in { const char *email; const char *password; };
 *     static const struct valid_rule login_rules[] = {
 *         VSTR(struct login_in, email, VF_REQUIRED, 3, 254),
 *         VSTR(struct login_in, password, VF_REQUIRED | VF_BYTES, 10, 256),
 *         VALID_END,
 *     };
 *     if (valid_object(req->json, login_rules, &in, 0, err) != BT_OK) return BT_ERR;
 *
 * Output slots by type: VT_STRING and VT_ENUM -> const char * (borrowed from
 * the JSON object, or the static choice for enums), VT_INT, VT_ID and
 * VT_DECIMAL -> int64_t, VT_BOOL -> bool.  Absent optional fields leave the
 * slot untouched, so handlers pre-set defaults.  Strings are checked for
 * well-formed UTF-8 without NUL bytes; lengths count code points unless
 * VF_BYTES.  Decimals are strings like "0.015", never binary floats, and are
 * returned scaled to integers (scale 8: "0.015" -> 1500000).
 */
#ifndef BT_VALID_H
#define BT_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

struct json_object;
struct http_req;

enum valid_type { VT_STRING, VT_INT, VT_ID, VT_BOOL, VT_ENUM, VT_DECIMAL };

enum valid_flags {
    VF_REQUIRED = 1u << 0,
    VF_NULLABLE = 1u << 1,  /* JSON null is treated as absent */
    VF_PRINTABLE = 1u << 2, /* no control characters */
    VF_BYTES = 1u << 3,     /* string length limits count bytes */
};

/* valid_object options */
enum valid_options {
    VALID_ALLOW_UNKNOWN = 1u << 0, /* do not reject fields without a rule */
    VALID_STRINGS = 1u << 1,       /* numbers and booleans may arrive as strings (query) */
};

struct valid_rule {
    const char *name;
    enum valid_type type;
    unsigned flags;
    size_t offset;
    int64_t min, max;           /* length (strings), range (numbers, decimals scaled) */
    const char *const *choices; /* VT_ENUM: NULL-terminated */
    int scale;                  /* VT_DECIMAL: digits after the point */
    int64_t step;               /* VT_INT/VT_DECIMAL: must be a multiple (0 = any) */
};

#define VSTR(T, f, fl, lo, hi)                                                                     \
    {                                                                                              \
#f, VT_STRING, (fl), offsetof(T, f), (lo), (hi), NULL, 0, 0                                \
    }
#define VINT(T, f, fl, lo, hi)                                                                     \
    {                                                                                              \
#f, VT_INT, (fl), offsetof(T, f), (lo), (hi), NULL, 0, 0                                   \
    }
#define VID(T, f, fl)                                                                              \
    {                                                                                              \
#f, VT_ID, (fl), offsetof(T, f), 1, INT64_MAX, NULL, 0, 0                                  \
    }
#define VBOOL(T, f, fl)                                                                            \
    {                                                                                              \
#f, VT_BOOL, (fl), offsetof(T, f), 0, 0, NULL, 0, 0                                        \
    }
#define VENUM(T, f, fl, ch)                                                                        \
    {                                                                                              \
#f, VT_ENUM, (fl), offsetof(T, f), 0, 0, (ch), 0, 0                                        \
    }
#define VDEC(T, f, fl, sc, lo, hi, st)                                                             \
    {                                                                                              \
#f, VT_DECIMAL, (fl), offsetof(T, f), (lo), (hi), NULL, (sc), (st)                         \
    }
#define VALID_END                                                                                  \
    {                                                                                              \
        NULL, VT_STRING, 0, 0, 0, 0, NULL, 0, 0                                                    \
    }

/* Validates obj against rules into out.  Records one field error per
 * invalid field (and per unknown field unless VALID_ALLOW_UNKNOWN); returns
 * BT_ERR with a 400 "validation" problem when any was found. */
int valid_object(struct json_object *obj, const struct valid_rule *rules, void *out,
                 unsigned options, struct bt_err *err);

/* The same over the request's query string (values are strings). */
int valid_query(struct http_req *req, const struct valid_rule *rules, void *out,
                struct bt_err *err);

/* Parses a non-negative-or-signed decimal string into an integer scaled by
 * 10^scale.  Returns BT_OK, or BT_ERR with a reason code in *why
 * ("format", "precision", "range"). */
int valid_parse_decimal(const char *s, int scale, int64_t *out, const char **why);

/* Formats v / 10^scale as a decimal string without trailing zeros. */
void valid_format_decimal(int64_t v, int scale, char *buf, size_t bufsz);

/* Email syntax check on an already-normalised (trimmed, lower-case) address. */
bool valid_email(const char *s);

#endif
