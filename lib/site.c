/*
 * site.c - the rule table of a site's creation (see site.h).
 */
#include "site.h"
#include "region.h"

const char *const site_cooling_types[] = {"air", "hydro", "immersion", NULL};

const struct valid_rule site_create_rules[] = {
    VENUM(struct site_create_in, region, VF_REQUIRED, region_ids),
    VINT(struct site_create_in, grid_tier, VF_REQUIRED, 1, 3),
    VENUM(struct site_create_in, cooling_type, VF_REQUIRED, site_cooling_types),
    VSTR(struct site_create_in, name, VF_REQUIRED | VF_PRINTABLE, 1, SITE_NAME_MAX),
    VALID_END,
};
