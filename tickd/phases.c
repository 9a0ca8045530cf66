/*
 * phases.c - the registries: which phases a tick runs, in which order, and
 * which intent kinds exist.  This is the one file a feature edits to plug
 * itself into the engine.
 *
 * Order matters for step(): the intents are applied after every phase they
 * touch has loaded, then the world processes run, then company processes
 * that read the world.  The order is part of the simulation: changing it
 * changes the state hashes of every later tick.
 */
#include "intents.h"
#include "ledger.h"
#include "market_phase.h"
#include "mining_phase.h"
#include "sites.h"
#include "world_phase.h"

const struct tick_phase *const tick_phases[] = {
    &tick_phase_ledger,  &tick_phase_sites,
    &tick_phase_intents, &tick_phase_world, /* price, network, regions, events */
    &tick_phase_mining,                     /* rigs, energy, yield (reads the world) */
    &tick_phase_market, /* batch auctions, funding, liquidations (reads the world) */
    /* company processes (research) */
};
const size_t tick_nphases = BT_ARRAY_LEN(tick_phases);

const struct intent_kind *const intent_kinds[] = {
    &intent_company_open,         &intent_site_create,        &intent_site_rig_add,
    &intent_site_rig_remove,      &intent_site_rig_firmware,  &intent_site_maintenance,
    &intent_site_energy_contract, &intent_site_energy_cancel, &intent_market_trade,
    &intent_market_cancel,
};
const size_t intent_nkinds = BT_ARRAY_LEN(intent_kinds);

_Static_assert(BT_ARRAY_LEN(tick_phases) <= TICK_MAX_PHASES, "raise TICK_MAX_PHASES");
