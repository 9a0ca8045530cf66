/*
 * site.h - the definition of a site as both sides see it: the input of
 * POST /site/create, validated by the handler and validated again by tickd
 * when it applies the intent (one rule table, so they cannot disagree).
 */
#ifndef BT_SITE_H
#define BT_SITE_H

#include <stdint.h>
#include "valid.h"

#define SITE_MAX_PER_COMPANY 50
#define SITE_NAME_MAX 64

struct site_create_in {
    const char *region;
    int64_t grid_tier;
    const char *cooling_type;
    const char *name;
};

extern const char *const site_cooling_types[]; /* NULL-terminated */
extern const struct valid_rule site_create_rules[];

#endif
