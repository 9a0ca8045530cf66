/*
 * site.c - the rule tables of a site's creation and of the mining actions
 * on it (see site.h): the handlers and tickd validate with the same table.
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

const char *const site_firmwares[] = {"eco", "stock", "overclock", NULL};
const char *const site_contract_kinds[] = {"fixed", "demand_response", NULL};

const struct valid_rule site_rig_add_rules[] = {
    VID(struct site_rig_add_in, site_id, VF_REQUIRED),
    VSTR(struct site_rig_add_in, model, VF_REQUIRED | VF_PRINTABLE | VF_BYTES, 1, SITE_MODEL_MAX),
    VINT(struct site_rig_add_in, count, VF_REQUIRED, 1, SITE_RIG_MAX_COUNT),
    VALID_END,
};

const struct valid_rule site_rig_remove_rules[] = {
    VID(struct site_rig_remove_in, site_id, VF_REQUIRED),
    VID(struct site_rig_remove_in, rig_id, VF_REQUIRED),
    VINT(struct site_rig_remove_in, count, VF_REQUIRED, 1, SITE_RIG_MAX_COUNT),
    VALID_END,
};

const struct valid_rule site_rig_firmware_rules[] = {
    VID(struct site_rig_firmware_in, site_id, VF_REQUIRED),
    VID(struct site_rig_firmware_in, rig_id, VF_REQUIRED),
    VENUM(struct site_rig_firmware_in, firmware, VF_REQUIRED, site_firmwares),
    VALID_END,
};

const struct valid_rule site_maintenance_rules[] = {
    VID(struct site_maintenance_in, site_id, VF_REQUIRED),
    VID(struct site_maintenance_in, rig_id, 0),
    VALID_END,
};

const struct valid_rule site_contract_rules[] = {
    VID(struct site_contract_in, site_id, VF_REQUIRED),
    VENUM(struct site_contract_in, kind, VF_REQUIRED, site_contract_kinds),
    VINT(struct site_contract_in, ticks, VF_REQUIRED, 1, SITE_CONTRACT_MAX_TICKS),
    VALID_END,
};

const struct valid_rule site_cancel_rules[] = {
    VID(struct site_cancel_in, site_id, VF_REQUIRED),
    VALID_END,
};
