/*
 * pgarr.c - array literals for unnest()-based bulk statements (see pgarr.h).
 *
 * Errors are sticky: an append past the cap marks the array failed and
 * pgarr_done returns NULL, so callers check once at the end.
 */
#include "pgarr.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void pgarr_init(struct pgarr *a)
{
    buf_init(&a->b, PGARR_MAX);
    a->n = 0;
    a->failed = 0;
    a->ints = true;
    a->v = NULL;
    a->vcap = 0;
}

void pgarr_free(struct pgarr *a)
{
    buf_free(&a->b);
    free(a->v);
    pgarr_init(a); /* empty again: freeing twice or reusing is safe */
}

static void sep(struct pgarr *a)
{
    if (buf_puts(&a->b, a->n++ ? "," : "{") != BT_OK)
        a->failed = 1;
}

static void put_text_i64(struct pgarr *a, int64_t v)
{
    sep(a);
    if (buf_put_i64(&a->b, v) != BT_OK)
        a->failed = 1;
}

/* The column stops being integers only: its values go to the literal. */
static void to_text(struct pgarr *a)
{
    int n = a->n;

    if (!a->ints)
        return;
    a->ints = false;
    a->n = 0;
    buf_reset(&a->b); /* empty, or the binary form (pgarr_bin) */
    for (int i = 0; i < n; i++)
        put_text_i64(a, a->v[i]);
    free(a->v);
    a->v = NULL;
    a->vcap = 0;
}

/* 12 bytes an element in binary (length word and value) */
#define PGARR_MAX_INTS ((int)((PGARR_MAX - 20) / 12))

void pgarr_i64(struct pgarr *a, int64_t v)
{
    if (!a->ints) {
        put_text_i64(a, v);
        return;
    }
    if (a->n >= PGARR_MAX_INTS) {
        a->failed = 1;
        return;
    }
    if (a->n == a->vcap) {
        int cap = a->vcap ? a->vcap * 2 : 1024;
        int64_t *g = realloc(a->v, (size_t)cap * sizeof(*g));
        if (!g) {
            a->failed = 1;
            return;
        }
        a->v = g;
        a->vcap = cap;
    }
    a->v[a->n++] = v;
}

void pgarr_null(struct pgarr *a)
{
    to_text(a);
    sep(a);
    if (buf_puts(&a->b, "NULL") != BT_OK)
        a->failed = 1;
}

void pgarr_str(struct pgarr *a, const char *s)
{
    const char *p;

    if (!s) {
        pgarr_null(a);
        return;
    }
    to_text(a);
    sep(a);
    if (buf_puts(&a->b, "\"") != BT_OK)
        a->failed = 1;
    for (p = s; *p; p++) {
        if ((*p == '"' || *p == '\\') && buf_puts(&a->b, "\\") != BT_OK)
            a->failed = 1;
        if (buf_append(&a->b, p, 1) != BT_OK)
            a->failed = 1;
    }
    if (buf_puts(&a->b, "\"") != BT_OK)
        a->failed = 1;
}

void pgarr_i64s(struct pgarr *a, const int64_t *v, int n)
{
    to_text(a);
    sep(a);
    if (buf_puts(&a->b, "\"{") != BT_OK)
        a->failed = 1;
    for (int i = 0; i < n; i++)
        if ((i && buf_puts(&a->b, ",") != BT_OK) || buf_put_i64(&a->b, v[i]) != BT_OK)
            a->failed = 1;
    if (buf_puts(&a->b, "}\"") != BT_OK)
        a->failed = 1;
}

const char *pgarr_done(struct pgarr *a)
{
    to_text(a);
    if (a->n == 0 && buf_puts(&a->b, "{") != BT_OK)
        a->failed = 1;
    if (buf_puts(&a->b, "}") != BT_OK)
        a->failed = 1;
    return a->failed ? NULL : a->b.data;
}

static void put_be32(struct pgarr *a, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};

    if (buf_append(&a->b, (const char *)c, 4) != BT_OK)
        a->failed = 1;
}

/* array_send's layout: ndim, has-nulls flag, element type, then per
 * dimension its length and lower bound, then per element its length and
 * big-endian value. */
const char *pgarr_bin(struct pgarr *a, int *len)
{
    if (!a->ints || a->failed)
        return NULL;
    buf_reset(&a->b);
    put_be32(a, a->n ? 1 : 0);
    put_be32(a, 0);
    put_be32(a, 20); /* int8 */
    if (a->n) {
        put_be32(a, (uint32_t)a->n);
        put_be32(a, 1);
    }
    for (int i = 0; i < a->n; i++) {
        uint64_t u = (uint64_t)a->v[i];
        put_be32(a, 8);
        put_be32(a, (uint32_t)(u >> 32));
        put_be32(a, (uint32_t)u);
    }
    if (a->failed)
        return NULL;
    *len = (int)a->b.len;
    return a->b.data;
}

void pgarr_init_n(struct pgarr *a, int n)
{
    for (int k = 0; k < n; k++)
        pgarr_init(&a[k]);
}

void pgarr_free_n(struct pgarr *a, int n)
{
    for (int k = 0; k < n; k++)
        pgarr_free(&a[k]);
}

int pgarr_exec(struct db *db, struct arena *arena, const struct db_stmt *st, const char **pre,
               int npre, struct pgarr *cols, int n, struct bt_err *err)
{
    const char *p[PGARR_MAX_PARAMS];
    int len[PGARR_MAX_PARAMS] = {0}, fmt[PGARR_MAX_PARAMS] = {0};
    uint32_t int8s;
    int k, rc = BT_ERR;

    BT_ASSERT(npre + n <= PGARR_MAX_PARAMS);
    for (k = 0; k < n && cols[k].n == 0; k++)
        ;
    if (k == n) { /* no rows: nothing to write */
        rc = BT_OK;
        goto out;
    }
    if (db_int8_array_params(db, st, &int8s, err) != BT_OK)
        goto out;
    for (k = 0; k < npre; k++)
        p[k] = pre[k];
    for (k = 0; k < n; k++) {
        int i = npre + k;
        if ((int8s >> i & 1u) && cols[k].ints) {
            p[i] = pgarr_bin(&cols[k], &len[i]);
            fmt[i] = 1;
        } else
            p[i] = pgarr_done(&cols[k]);
        if (!p[i]) {
            err_internal(err, "too many rows for one statement (%s)", st->name);
            goto out;
        }
    }
    rc = db_exec_params(db, arena, st, npre + n, p, len, fmt, err) ? BT_OK : BT_ERR;
out:
    pgarr_free_n(cols, n);
    return rc;
}
