/*
 * pgarr.h - PostgreSQL array literals for bulk statements.
 *
 * tickd persists a tick's rows with one statement per table:
 *   INSERT ... SELECT * FROM unnest($1::bigint[], $2::text[], ...)
 * Each column is built here as an array literal ("{1,2,NULL}", strings
 * double-quoted with \ and " escaped) and sent as an ordinary parameter,
 * so nothing is ever pasted into SQL text.  The literal lives in a struct
 * buf (capped, malloc'ed); pgarr_done returns it NUL-terminated.
 *
 * A column of integers only is kept as integers until it is sent:
 * pgarr_exec sends it in PostgreSQL's binary array format when the
 * statement's parameter is bigint[] (the server parses a text literal of
 * 100,000 integers in ~20 ms; a tick sends dozens of such columns).
 */
#ifndef BT_PGARR_H
#define BT_PGARR_H

#include <stdint.h>
#include "arena.h"
#include "buf.h"
#include "db.h"
#include "err.h"

#define PGARR_MAX (64u * 1024 * 1024) /* one column of one statement */

struct pgarr {
    struct buf b; /* the text literal; or the binary array (pgarr_bin) */
    int n;
    int failed;
    bool ints; /* only pgarr_i64 so far: the values are in v, not in b */
    int64_t *v;
    int vcap;
};

void pgarr_init(struct pgarr *a);
void pgarr_free(struct pgarr *a);
/* The same for the n columns of one statement. */
void pgarr_init_n(struct pgarr *a, int n);
void pgarr_free_n(struct pgarr *a, int n);
void pgarr_i64(struct pgarr *a, int64_t v);
void pgarr_null(struct pgarr *a);
void pgarr_str(struct pgarr *a, const char *s); /* NULL s appends NULL */
/* An element that is itself the literal of n integers ("{1,2}", quoted):
 * a text[] column, cast per row (u.x::bigint[]). */
void pgarr_i64s(struct pgarr *a, const int64_t *v, int n);
/* The literal, or NULL when the cap was reached. */
const char *pgarr_done(struct pgarr *a);
/* For a column of integers only: PostgreSQL's binary form of the bigint[]
 * (*len bytes); NULL for any other column or when the cap was reached. */
const char *pgarr_bin(struct pgarr *a, int *len);

#define PGARR_MAX_PARAMS 32
/* Runs st with `npre` scalar parameters followed by n array columns (then
 * frees the columns, whatever happens), integer columns in binary where
 * the statement takes a bigint[].  Columns without rows run nothing
 * (BT_OK): callers need not count their rows.  BT_ERR when a column overflowed
 * or the statement failed. */
int pgarr_exec(struct db *db, struct arena *arena, const struct db_stmt *st, const char **pre,
               int npre, struct pgarr *cols, int n, struct bt_err *err);

/* Rows in PostgreSQL's binary COPY format (COPY ... FROM STDIN (FORMAT
 * binary)): fewer, wider rows than an unnest() insert can build, e.g. a
 * row of arrays.  Errors are sticky as for pgarr. */
#define PGCOPY_MAX (256u * 1024 * 1024)

struct pgcopy {
    struct buf b;
    int failed;
    int rows;
};

/* Starts the stream (its header). */
void pgcopy_init(struct pgcopy *c);
void pgcopy_free(struct pgcopy *c);
/* Starts a row of nfields fields, then one call per field: */
void pgcopy_row(struct pgcopy *c, int nfields);
void pgcopy_i64(struct pgcopy *c, int64_t v); /* a bigint */
/* A one-dimensional bigint[] (size 8) or integer[] (size 4) of n elements
 * from 1, NULL where has[i] is false. */
void pgcopy_array(struct pgcopy *c, int size, const int64_t *v, const bool *has, int n);
/* Runs sql (COPY ... FROM STDIN (FORMAT binary)) with the rows, then frees
 * them whatever happens; no rows run nothing (BT_OK). */
int pgcopy_exec(struct db *db, const char *sql, struct pgcopy *c, struct bt_err *err);

#endif
