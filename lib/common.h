/*
 * common.h - the project's return-code convention and invariant checks.
 *
 * Every function that can fail returns BT_OK (0) on success and BT_ERR (-1)
 * on failure, filling a struct bt_err (lib/err.h) with the details.  A few
 * functions return named outcomes (e.g. ROUTE_NOT_FOUND) when callers branch
 * on them; those are documented beside the function.  Predicates return bool.
 *
 * Three kinds of failure are kept apart (git's rules):
 *   BT_BUG / BT_ASSERT  a broken invariant inside our code: abort with a message.
 *   bt_die              a fatal start-up error (bad config, cannot listen).
 *   struct bt_err       anything a client, the network or a peer can cause:
 *                       returned to the caller, answered at the edge.
 * A request path never calls bt_die, and never BT_BUG on client input.
 */
#ifndef BT_COMMON_H
#define BT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define BT_OK  0
#define BT_ERR (-1)

#define BT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* The value of a macro as a string literal. */
#define BT_STR_(x)   #x
#define BT_STR(x)    BT_STR_(x)
#define BT_UNUSED(x) ((void)(x))

#if defined(__GNUC__)
#define BT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BT_PRINTF(fmt, args)
#endif

#define BT_BUG(...) bt_bug(__FILE__, __LINE__, __VA_ARGS__)
#define BT_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            bt_bug(__FILE__, __LINE__, "assertion failed: %s", #cond);                             \
    } while (0)

/* Logs the message as a fatal JSON log line and aborts (core dump for debugging). */
_Noreturn void bt_bug(const char *file, int line, const char *fmt, ...) BT_PRINTF(3, 4);

/* Logs the message and exits with status 1: for start-up errors only. */
_Noreturn void bt_die(const char *fmt, ...) BT_PRINTF(1, 2);

/* Where a search among n sorted entries whose keys run from first to last
 * may start for key: [*lo, *hi), 2 * w entries around the position key
 * would have if the keys were spread evenly, or [0, n) when key is not
 * strictly between first and last (or n <= 2 * w).  The caller keeps the
 * window only when the key lies within its bounds, else searches [0, n):
 * a few cache lines instead of ~log2(n) probes scattered over the array. */
static inline void bt_guess_window(int64_t key, int64_t first, int64_t last, size_t n, size_t w,
                                   size_t *lo, size_t *hi)
{
    size_t g;

    *lo = 0;
    *hi = n;
    if (n <= 2 * w || key <= first || key >= last)
        return;
    g = (size_t)((__int128)(key - first) * (__int128)(n - 1) / ((__int128)last - first));
    *lo = g > w ? g - w : 0;
    *hi = g + w < n ? g + w : n;
}

/* qsort/bsearch order of int64_t values. */
static inline int bt_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

#endif
