/*
 * arena.h - per-request (and per-tick) memory with registered cleanups.
 *
 * Everything a request allocates comes from its arena and is released in
 * one go by arena_reset() when the request ends.  Foreign objects with their
 * own destructors (PGresult, redisReply, json_object) are handed to the arena
 * with arena_defer(), which runs their cleanup at reset time, last registered
 * first.  The arena is bounded (max_bytes); an allocation beyond it returns
 * NULL, which callers turn into an error - never a crash.
 */
#ifndef BT_ARENA_H
#define BT_ARENA_H

#include <stddef.h>
#include "common.h"

struct arena_chunk;
struct arena_cleanup;

struct arena {
    struct arena_chunk *chunks;     /* newest first */
    struct arena_cleanup *cleanups; /* newest first */
    size_t used;                    /* bytes handed out since the last reset */
    size_t max_bytes;               /* hard cap, 0 = unlimited */
};

void arena_init(struct arena *a, size_t max_bytes);

/* Runs the cleanups (LIFO) and frees every chunk but one, for reuse. */
void arena_reset(struct arena *a);

/* arena_reset() and frees the last chunk too. */
void arena_free(struct arena *a);

/* Aligned memory valid until the next reset; NULL when the cap is reached. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) BT_PRINTF(2, 3);

/* Registers fn(ptr) to run at reset.  If the cleanup record itself cannot be
 * allocated, fn(ptr) runs at once and BT_ERR is returned, so ownership is
 * always taken. */
int arena_defer(struct arena *a, void (*fn)(void *), void *ptr);

#endif
