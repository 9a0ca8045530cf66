/*
 * intents.h - the intents phase: claims the world's queued intents inside
 * the tick transaction, applies them in id order through the intent-kind
 * registry, and stores every outcome in the same transaction.
 */
#ifndef BT_INTENTS_H
#define BT_INTENTS_H

#include "tick.h"

extern const struct tick_phase tick_phase_intents;

/* Applies ctx->intents in order (the step of the phase; exposed for unit
 * tests).  Unknown kinds and unparsable args are rejected. */
void intents_apply_all(struct tick_ctx *ctx);

#endif
