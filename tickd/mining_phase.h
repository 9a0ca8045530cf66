/*
 * mining_phase.h - the mining and energy model (tickd/mining.h) as a tick
 * phase, registered in phases.c right after the world phase, and the
 * intent kinds that act on a site's rigs and energy contract.
 */
#ifndef BT_MINING_PHASE_H
#define BT_MINING_PHASE_H

#include "mining.h"
#include "tick.h"

extern const struct tick_phase tick_phase_mining;
extern const struct intent_kind intent_site_rig_add;
extern const struct intent_kind intent_site_rig_remove;
extern const struct intent_kind intent_site_rig_firmware;
extern const struct intent_kind intent_site_maintenance;
extern const struct intent_kind intent_site_energy_contract;
extern const struct intent_kind intent_site_energy_cancel;

/* The mining state of the world being ticked (borrowed). */
struct mining_state *mining_of(const struct tick_ctx *ctx);

#endif
