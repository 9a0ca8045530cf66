/*
 * buf.c - bounded growable buffer (see buf.h).  Growth doubles, capped at max.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1, ncap;
    char *p;

    if (need < b->len)
        return BT_ERR;
    if (b->max && need > b->max + 1)
        return BT_ERR;
    if (need <= b->cap)
        return BT_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (b->max && ncap > b->max + 1)
        ncap = b->max + 1;
    p = realloc(b->data, ncap);
    if (!p)
        return BT_ERR;
    b->data = p;
    b->cap = ncap;
    return BT_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (reserve(b, n) != BT_OK)
        return BT_ERR;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return BT_OK;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != BT_OK)
        return BT_ERR;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return BT_OK;
}

int buf_put_i64(struct buf *b, int64_t v)
{
    char t[24], *p = t + sizeof(t);
    /* In unsigned arithmetic, so that INT64_MIN negates exactly. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return buf_append(b, p, (size_t)(t + sizeof(t) - p));
}
