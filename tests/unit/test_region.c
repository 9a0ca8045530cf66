/*
 * test_region.c - the region id list matches the contract and the
 * predicate accepts exactly those ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "region.h"

static void six_contract_ids_in_order(void **state)
{
    static const char *const want[] = {"texas",      "quebec",   "iceland",
                                       "kazakhstan", "paraguay", "norway"};
    int i;

    (void)state;
    for (i = 0; i < REGION_COUNT; i++)
        assert_string_equal(region_ids[i], want[i]);
    assert_null(region_ids[REGION_COUNT]);
}

static void valid_only_for_exact_ids(void **state)
{
    (void)state;
    assert_true(region_valid("texas"));
    assert_true(region_valid("norway"));
    assert_false(region_valid("Texas"));
    assert_false(region_valid("texas "));
    assert_false(region_valid(""));
    assert_false(region_valid("mars"));
    assert_false(region_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(six_contract_ids_in_order),
        cmocka_unit_test(valid_only_for_exact_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
