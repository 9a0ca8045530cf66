/*
 * world_phase.h - the world processes as a tick phase (registered in
 * phases.c after the intents, before the company processes).
 */
#ifndef BT_WORLD_PHASE_H
#define BT_WORLD_PHASE_H

#include "tick.h"
#include "world.h"

extern const struct tick_phase tick_phase_world;

/* The world model of the world being ticked (company processes read the
 * price, the network and the regions from it). */
struct world_model *world_of(const struct tick_ctx *ctx);

#endif
