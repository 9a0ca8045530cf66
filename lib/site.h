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
#define SITE_NAME_MAX        64

struct site_create_in {
    const char *region;
    int64_t grid_tier;
    const char *cooling_type;
    const char *name;
};

extern const char *const site_cooling_types[]; /* NULL-terminated */
extern const struct valid_rule site_create_rules[];

/* The mining actions on a site (tickd/mining_phase.c applies them).  A rig
 * group ("rig_id") is the batch one /site/rig/add installed; its id is that
 * intent's id. */
#define SITE_RIG_MAX_COUNT      100000 /* rigs in one add (MINING_MAX_COUNT) */
#define SITE_MODEL_MAX          23     /* rig_models.id */
#define SITE_CONTRACT_MAX_TICKS 1000000

struct site_rig_add_in {
    int64_t site_id;
    const char *model;
    int64_t count;
};
struct site_rig_remove_in {
    int64_t site_id, rig_id, count;
};
struct site_rig_firmware_in {
    int64_t site_id, rig_id;
    const char *firmware;
};
struct site_maintenance_in {
    int64_t site_id, rig_id; /* rig_id 0 = every group of the site */
};
struct site_contract_in {
    int64_t site_id;
    const char *kind;
    int64_t ticks;
};
struct site_cancel_in {
    int64_t site_id;
};

extern const char *const site_firmwares[];      /* eco, stock, overclock */
extern const char *const site_contract_kinds[]; /* fixed, demand_response */
extern const struct valid_rule site_rig_add_rules[];
extern const struct valid_rule site_rig_remove_rules[];
extern const struct valid_rule site_rig_firmware_rules[];
extern const struct valid_rule site_maintenance_rules[];
extern const struct valid_rule site_contract_rules[];
extern const struct valid_rule site_cancel_rules[];

#endif
