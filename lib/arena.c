/*
 * arena.c - bump allocator in chunks, plus a cleanup list (see arena.h).
 *
 * Chunks are ARENA_CHUNK bytes; a larger request gets a chunk of its own.
 * arena_reset keeps the most recently allocated standard-size chunk so that a
 * steady request load allocates nothing from malloc after warm-up.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (16 * 1024)
#define ARENA_ALIGN 16

struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t off;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *ptr;
};

void arena_init(struct arena *a, size_t max_bytes)
{
    a->chunks = NULL;
    a->cleanups = NULL;
    a->used = 0;
    a->max_bytes = max_bytes;
}

static void run_cleanups(struct arena *a)
{
    struct arena_cleanup *c = a->cleanups;

    /* Read next before calling: the record itself lives in the arena but
     * chunks are only freed after every cleanup ran. */
    while (c) {
        struct arena_cleanup *next = c->next;
        c->fn(c->ptr);
        c = next;
    }
    a->cleanups = NULL;
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *c, *keep = NULL;

    run_cleanups(a);
    c = a->chunks;
    while (c) {
        struct arena_chunk *next = c->next;
        if (!keep && c->size == ARENA_CHUNK) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->off = 0;
    }
    a->chunks = keep;
    a->used = 0;
}

void arena_free(struct arena *a)
{
    arena_reset(a);
    free(a->chunks);
    a->chunks = NULL;
}

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->chunks;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;

    if (need < n)
        return NULL; /* overflow */
    if (a->max_bytes && a->used + need > a->max_bytes)
        return NULL;
    if (!c || c->size - c->off < need) {
        size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        c = malloc(sizeof(*c) + size);
        if (!c)
            return NULL;
        c->size = size;
        c->off = 0;
        if (size > ARENA_CHUNK && a->chunks) {
            /* A big one-off chunk goes behind the current one so that the
             * current chunk's free space stays usable. */
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            c->next = a->chunks;
            a->chunks = c;
        }
    }
    p = c->data + c->off;
    c->off += need;
    a->used += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);

    if (p)
        memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;
    char *p;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return NULL;
    }
    p = arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

int arena_defer(struct arena *a, void (*fn)(void *), void *ptr)
{
    struct arena_cleanup *c;

    if (!ptr)
        return BT_OK;
    c = arena_alloc(a, sizeof(*c));
    if (!c) {
        fn(ptr);
        return BT_ERR;
    }
    c->fn = fn;
    c->ptr = ptr;
    c->next = a->cleanups;
    a->cleanups = c;
    return BT_OK;
}
