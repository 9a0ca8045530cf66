/*
 * test_arena.c - the per-request arena: alignment, the byte cap, cleanups
 * run last-registered-first exactly once, reset reuses memory, and a
 * cleanup that cannot be recorded runs at once (ownership always taken).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

static int order[16];
static int norder;

static void record(void *p)
{
    order[norder++] = *(int *)p;
}

static void free_it(void *p)
{
    free(p);
}

static void allocations_are_aligned_and_distinct(void **state)
{
    struct arena a;
    char *p, *q, *s;

    (void)state;
    arena_init(&a, 0);
    p = arena_alloc(&a, 3);
    q = arena_alloc(&a, 5);
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_int_equal((uintptr_t)q % 16, 0);
    assert_true(q >= p + 3);
    memset(p, 'x', 3);
    memset(q, 'y', 5);
    assert_int_equal(p[2], 'x');
    s = arena_zalloc(&a, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(s[i], 0);
    assert_string_equal(arena_strdup(&a, "hello"), "hello");
    assert_string_equal(arena_strndup(&a, "hello", 3), "hel");
    assert_string_equal(arena_printf(&a, "%s-%d", "n", 42), "n-42");
    arena_free(&a);
}

static void big_allocations_get_their_own_chunk(void **state)
{
    struct arena a;
    char *small1, *big, *small2;

    (void)state;
    arena_init(&a, 0);
    small1 = arena_alloc(&a, 64);
    big = arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000); /* ASan catches an undersized chunk */
    small2 = arena_alloc(&a, 64);
    /* the standard chunk's free space is still used after the big one */
    assert_ptr_equal(small2, small1 + 64);
    arena_free(&a);
}

static void cap_refuses_allocations_beyond_it(void **state)
{
    struct arena a;

    (void)state;
    arena_init(&a, 1024);
    assert_non_null(arena_alloc(&a, 1000));
    assert_null(arena_alloc(&a, 32));     /* 1008 + 32 > 1024 */
    assert_non_null(arena_alloc(&a, 16)); /* 1008 + 16 fits exactly */
    assert_null(arena_alloc(&a, 1));
    assert_null(arena_strdup(&a, "x"));
    assert_null(arena_printf(&a, "%d", 1));
    assert_null(arena_alloc(&a, SIZE_MAX)); /* rounding overflow is refused too */
    arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(arena_alloc(&a, 1000)); /* the cap counts since the last reset */
    arena_free(&a);
}

static void cleanups_run_in_reverse_once(void **state)
{
    static int v[3] = {1, 2, 3};
    struct arena a;

    (void)state;
    norder = 0;
    arena_init(&a, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(arena_defer(&a, record, &v[i]), BT_OK);
    assert_int_equal(norder, 0);
    arena_reset(&a);
    assert_int_equal(norder, 3);
    assert_int_equal(order[0], 3);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
    arena_reset(&a); /* nothing left to run */
    assert_int_equal(norder, 3);
    assert_int_equal(arena_defer(&a, record, &v[0]), BT_OK);
    arena_free(&a); /* free runs pending cleanups too */
    assert_int_equal(norder, 4);
    assert_int_equal(order[3], 1);
}

static void defer_takes_ownership_even_when_full(void **state)
{
    static int v = 7;
    struct arena a;

    (void)state;
    norder = 0;
    arena_init(&a, 64);
    assert_non_null(arena_alloc(&a, 64));
    /* no room for the record: the cleanup runs now */
    assert_int_equal(arena_defer(&a, record, &v), BT_ERR);
    assert_int_equal(norder, 1);
    assert_int_equal(order[0], 7);
    /* a NULL object needs no cleanup */
    assert_int_equal(arena_defer(&a, record, NULL), BT_OK);
    arena_reset(&a);
    assert_int_equal(norder, 1);
    /* heap objects handed over are freed at reset (LeakSanitizer checks) */
    assert_int_equal(arena_defer(&a, free_it, malloc(10)), BT_OK);
    arena_free(&a);
}

static void reset_reuses_the_standard_chunk(void **state)
{
    struct arena a;
    void *p1;

    (void)state;
    arena_init(&a, 0);
    p1 = arena_alloc(&a, 100);
    arena_reset(&a);
    /* the only chunk is kept: the same memory comes back, no malloc */
    assert_ptr_equal(arena_alloc(&a, 100), p1);
    assert_int_equal(a.used, 112);
    /* many chunks, standard and big: reset frees all but one (LeakSanitizer
     * and ASan check the rest), and the arena stays usable */
    assert_non_null(arena_alloc(&a, 200000));
    for (int i = 0; i < 10; i++)
        assert_non_null(arena_alloc(&a, 8000));
    arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(a.chunks);
    memset(arena_alloc(&a, 16000), 0, 16000);
    arena_free(&a);
    assert_null(a.chunks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocations_are_aligned_and_distinct),
        cmocka_unit_test(big_allocations_get_their_own_chunk),
        cmocka_unit_test(cap_refuses_allocations_beyond_it),
        cmocka_unit_test(cleanups_run_in_reverse_once),
        cmocka_unit_test(defer_takes_ownership_even_when_full),
        cmocka_unit_test(reset_reuses_the_standard_chunk),
    };
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
