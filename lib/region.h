/*
 * region.h - the six regions a company can be founded in.
 *
 * The world model keeps a `regions` table with the same ids (0004); this
 * list lets request validation work without a database round trip.  The
 * ids are part of the API: never rename one.
 */
#ifndef BT_REGION_H
#define BT_REGION_H

#include <stdbool.h>

#define REGION_COUNT 6

/* NULL-terminated, in a fixed order (usable as a VENUM choice list). */
extern const char *const region_ids[];

/* True when s is exactly one of region_ids. */
bool region_valid(const char *s);

#endif
