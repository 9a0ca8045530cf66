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

/* Big-endian words, as PostgreSQL's binary formats want them. */
static void be32(struct buf *b, int *failed, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};

    if (buf_append(b, (const char *)c, 4) != BT_OK)
        *failed = 1;
}

static void be16(struct buf *b, int *failed, uint16_t v)
{
    unsigned char c[2] = {(unsigned char)(v >> 8), (unsigned char)v};

    if (buf_append(b, (const char *)c, 2) != BT_OK)
        *failed = 1;
}

/* One array element: its length word and value (int4 or int8). */
static void be_elem(struct buf *b, int *failed, int size, int64_t v)
{
    uint64_t u = (uint64_t)v;

    be32(b, failed, (uint32_t)size);
    if (size == 8)
        be32(b, failed, (uint32_t)(u >> 32));
    be32(b, failed, (uint32_t)u);
}

static void put_be32(struct pgarr *a, uint32_t v)
{
    be32(&a->b, &a->failed, v);
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
    for (int i = 0; i < a->n; i++)
        be_elem(&a->b, &a->failed, 8, a->v[i]);
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

/* ---- binary COPY ---- */

void pgcopy_init(struct pgcopy *c)
{
    static const char sig[11] = "PGCOPY\n\377\r\n";

    buf_init(&c->b, PGCOPY_MAX);
    c->failed = buf_append(&c->b, sig, sizeof(sig)) != BT_OK;
    be32(&c->b, &c->failed, 0); /* flags */
    be32(&c->b, &c->failed, 0); /* header extension length */
    c->rows = 0;
}

void pgcopy_free(struct pgcopy *c)
{
    buf_free(&c->b);
    c->failed = 0;
    c->rows = 0;
}

void pgcopy_row(struct pgcopy *c, int nfields)
{
    be16(&c->b, &c->failed, (uint16_t)nfields);
    c->rows++;
}

void pgcopy_i64(struct pgcopy *c, int64_t v)
{
    be_elem(&c->b, &c->failed, 8, v);
}

/* The field's length word, then array_send's layout (as pgarr_bin). */
void pgcopy_array(struct pgcopy *c, int size, const int64_t *v, const bool *has, int n)
{
    int nulls = 0;
    uint32_t len = 20;

    BT_ASSERT(size == 4 || size == 8);
    for (int i = 0; i < n; i++) {
        nulls += !has[i];
        len += has[i] ? 4u + (uint32_t)size : 4u;
    }
    if (n == 0)
        len = 12;
    be32(&c->b, &c->failed, len);
    be32(&c->b, &c->failed, n ? 1 : 0);
    be32(&c->b, &c->failed, nulls ? 1 : 0);
    be32(&c->b, &c->failed, size == 8 ? 20 : 23); /* int8, int4 */
    if (n) {
        be32(&c->b, &c->failed, (uint32_t)n);
        be32(&c->b, &c->failed, 1);
    }
    for (int i = 0; i < n; i++) {
        if (has[i])
            be_elem(&c->b, &c->failed, size, v[i]);
        else
            be32(&c->b, &c->failed, 0xffffffffu); /* NULL */
    }
}

int pgcopy_exec(struct db *db, const char *sql, struct pgcopy *c, struct bt_err *err)
{
    int rc = BT_OK;

    if (c->rows > 0) {
        be16(&c->b, &c->failed, 0xffffu); /* trailer */
        if (c->failed)
            rc = err_internal(err, "too many rows for one COPY (%s)", sql);
        else
            rc = db_copy_in(db, sql, c->b.data, c->b.len, err);
    }
    pgcopy_free(c);
    return rc;
}
