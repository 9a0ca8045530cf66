/*
 * pgarr.c - array literals for unnest()-based bulk statements (see pgarr.h).
 *
 * Errors are sticky: an append past the cap marks the array failed and
 * pgarr_done returns NULL, so callers check once at the end.
 */
#include "pgarr.h"

#include <inttypes.h>
#include <string.h>

void pgarr_init(struct pgarr *a)
{
    buf_init(&a->b, PGARR_MAX);
    a->n = 0;
    a->failed = 0;
}

void pgarr_free(struct pgarr *a)
{
    buf_free(&a->b);
}

static void sep(struct pgarr *a)
{
    if (buf_puts(&a->b, a->n++ ? "," : "{") != BT_OK)
        a->failed = 1;
}

void pgarr_i64(struct pgarr *a, int64_t v)
{
    sep(a);
    if (buf_put_i64(&a->b, v) != BT_OK)
        a->failed = 1;
}

void pgarr_null(struct pgarr *a)
{
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
    if (a->n == 0 && buf_puts(&a->b, "{") != BT_OK)
        a->failed = 1;
    if (buf_puts(&a->b, "}") != BT_OK)
        a->failed = 1;
    return a->failed ? NULL : a->b.data;
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
    int k, rc = BT_ERR;

    BT_ASSERT(npre + n <= PGARR_MAX_PARAMS);
    for (k = 0; k < npre; k++)
        p[k] = pre[k];
    for (k = 0; k < n; k++)
        if (!(p[npre + k] = pgarr_done(&cols[k]))) {
            err_internal(err, "too many rows for one statement (%s)", st->name);
            goto out;
        }
    rc = db_exec(db, arena, st, npre + n, p, err) ? BT_OK : BT_ERR;
out:
    pgarr_free_n(cols, n);
    return rc;
}
