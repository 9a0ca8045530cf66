/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Used for request bodies, rendered responses and metrics exposition.  Every
 * append checks the cap (max) and fails with BT_ERR instead of growing past
 * it; the content stays NUL-terminated for convenience.  The buffer owns its
 * memory (malloc); buf_free releases it.
 */
#ifndef BT_BUF_H
#define BT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, memory kept */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) BT_PRINTF(2, 3);
/* The decimal text of v (what "%" PRId64 prints, without printf's cost:
 * tickd writes millions of integers a tick into its bulk statements). */
int buf_put_i64(struct buf *b, int64_t v);

#endif
