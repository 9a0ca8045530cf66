/*
 * region.c - the list of region ids (see region.h).  Adding a region means
 * a row here and one in the regions table.
 */
#include "region.h"

#include <string.h>

const char *const region_ids[] = {"texas", "quebec", "iceland", "kazakhstan",
                                  "paraguay", "norway", NULL};

bool region_valid(const char *id)
{
    int i;

    for (i = 0; id && region_ids[i]; i++)
        if (strcmp(id, region_ids[i]) == 0)
            return true;
    return false;
}
