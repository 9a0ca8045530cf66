/*
 * sites.h - mining sites in tickd's memory: the sites phase and the
 * site.create intent kind.  A later feature adds rigs and energy to sites
 * (as its own phase reading this state through sites_of()).
 */
#ifndef BT_SITES_H
#define BT_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "site.h"
#include "tick.h"

#define SITES_MAX_COST_PARTS 64

struct site {
    int64_t id; /* the id of the intent that built it */
    int64_t company_id;
    int64_t build_cost; /* micro-dollars */
    int64_t created_tick;
    int grid_tier;
    bool is_new; /* not yet persisted */
    char region[16];
    char cooling[16];
    char name[4 * SITE_NAME_MAX + 1];
};

struct site_cost {
    char part[16];
    char value[16];
    int64_t usd_micro;
};

/* Open-addressing map int64 key (non-zero) -> int32, for the sites added
 * this tick (private to sites.c). */
struct sites_map {
    int64_t *keys;
    int32_t *vals;
    size_t n, cap; /* cap: 0 or a power of two */
};

struct sites {
    struct site *v; /* sorted by (company_id, id); settled sites only */
    size_t n, cap, nnew;
    /* Sites built since the last sites_settle(), in apply order: inserting
     * each into the sorted array would move it (O(n)) per site, so they wait
     * here, found through the maps, and are merged in one pass. */
    struct site *add;
    size_t nadd, capadd;
    struct sites_map add_ids;       /* site id -> index in add */
    struct sites_map add_companies; /* company id -> sites in add */
    struct tick_lanes lanes;        /* digest of every site (sites never change) */
    struct site_cost costs[SITES_MAX_COST_PARTS];
    int ncosts;
};

extern const struct tick_phase tick_phase_sites;
extern const struct intent_kind intent_site_create;

/* Build cost of a site from the cost parts, or -1 when a part is unpriced. */
int64_t sites_cost(const struct sites *s, const char *region, int64_t tier, const char *cooling);

/* The site `id` of a company, or NULL (borrowed; valid until a site is added). */
const struct site *sites_find(const struct sites *s, int64_t company_id, int64_t id);

/* Number of sites of a company. */
size_t sites_count(const struct sites *s, int64_t company_id);

/* Merges the sites built this tick into the sorted array v (one pass).  Done
 * by every reader of v; lookups (sites_find, sites_count) need not. */
void sites_settle(struct sites *s);

#endif
