/*
 * region.c - the region id list (see region.h).  Static data only.
 */
#include "region.h"

#include <string.h>

const char *const region_ids[REGION_COUNT + 1] = {
    "texas", "quebec", "iceland", "kazakhstan", "paraguay", "norway", NULL,
};

bool region_valid(const char *s)
{
    int i;

    if (!s)
        return false;
    for (i = 0; region_ids[i]; i++)
        if (strcmp(region_ids[i], s) == 0)
            return true;
    return false;
}
