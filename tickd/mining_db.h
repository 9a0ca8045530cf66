/*
 * mining_db.h - the mining catalog read from PostgreSQL (the 0007 content
 * tables admins tune).  Shared by tickd's mining phase and the site
 * service's pre-checks, so both price and size rigs from the same rows.
 */
#ifndef BT_MINING_DB_H
#define BT_MINING_DB_H

#include "arena.h"
#include "db.h"
#include "mining.h"

/* Fills *c from rig_models (in position order; gaps refused),
 * cooling_types, grid_tiers, energy_contract_kinds and mining_params. */
int mining_catalog_load(struct db *db, struct arena *a, struct mining_catalog *c,
                        struct bt_err *err);

#endif
