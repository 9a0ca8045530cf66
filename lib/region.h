/*
 * region.h - the regions of the game world (the same six ids everywhere:
 * the regions table, company creation, sites).
 */
#ifndef BT_REGION_H
#define BT_REGION_H

#include <stdbool.h>

/* NULL-terminated. */
extern const char *const region_ids[];

bool region_valid(const char *id);

#endif
