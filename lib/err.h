/*
 * err.h - errors that travel up to the edge with their details.
 *
 * Library functions fill a struct bt_err and return BT_ERR; only the top of a
 * request (lib/app.c) or of a tick turns it into a log line and an answer.
 * The struct is fixed-size (no allocation) so it can be filled anywhere,
 * including on out-of-memory paths.  Field errors are bounded: past
 * ERR_MAX_FIELDS the extra ones are counted, not stored.
 *
 * `type` is the RFC 9457 problem slug; the answer's "type" member is
 * "/problems/<slug>" (documented in docs/openapi.yaml).  `internal` is a
 * log-only explanation for 5xx answers and is never sent to a client.
 */
#ifndef BT_ERR_H
#define BT_ERR_H

#include <stdbool.h>
#include "common.h"

#define ERR_MAX_FIELDS 16
#define ERR_FIELD_LEN  64
#define ERR_CODE_LEN   32
#define ERR_MSG_LEN    160
#define ERR_DETAIL_LEN 256

struct err_field {
    char field[ERR_FIELD_LEN]; /* JSON pointer-ish name, e.g. "email" or "orders[2].qty" */
    char code[ERR_CODE_LEN];   /* machine-readable: "required", "too_long", ... */
    char message[ERR_MSG_LEN]; /* human-readable */
};

struct bt_err {
    int status;       /* HTTP status; 0 while unset */
    const char *type; /* problem slug, static storage */
    char detail[ERR_DETAIL_LEN];
    char internal[ERR_DETAIL_LEN];
    int retry_after; /* seconds for 429/503, 0 = no header */
    int nfields;
    int dropped_fields;
    struct err_field fields[ERR_MAX_FIELDS];
};

/* Resets *e to "no error". */
void err_clear(struct bt_err *e);

/* Sets status, slug and a detail sent to the client.  Returns BT_ERR so that
 * callers can write `return err_set(...)`. */
int err_set(struct bt_err *e, int status, const char *type, const char *fmt, ...) BT_PRINTF(4, 5);

/* A 500 whose explanation goes to the log only; the client sees a generic detail. */
int err_internal(struct bt_err *e, const char *fmt, ...) BT_PRINTF(2, 3);

/* A 503 (dependency down) with Retry-After; the explanation goes to the log only. */
int err_unavailable(struct bt_err *e, int retry_after, const char *fmt, ...) BT_PRINTF(3, 4);

/* Appends one invalid-field entry.  The field name is sanitised (invalid
 * UTF-8 and control characters replaced) because it may come from the client. */
void err_field(struct bt_err *e, const char *field, const char *code, const char *fmt, ...)
    BT_PRINTF(4, 5);

/* If field errors were recorded, turns *e into a 400 validation problem and
 * returns BT_ERR; otherwise returns BT_OK. */
int err_check_fields(struct bt_err *e);

/* The RFC 9457 "title" for a slug (falls back to the status' reason phrase). */
const char *err_title(const struct bt_err *e);

/* Standard reason phrase for an HTTP status ("Not Found"). */
const char *err_reason(int status);

bool err_is_set(const struct bt_err *e);

#endif
