/*
 * wevent.h - the vocabulary of world events, shared by tickd (which draws
 * and stores them) and the services (which validate admin injections and
 * read them back).  Regional events carry a region id; global ones none.
 *
 * Add new types at the end; the names are stored in events.type.
 */
#ifndef BT_WEVENT_H
#define BT_WEVENT_H

#include <stdbool.h>

enum wevent_type {
    WEV_HEAT_WAVE,        /* regional: temperature up, cooling load and demand up */
    WEV_COLD_SNAP,        /* regional: temperature down, heating demand, outage odds up */
    WEV_DUST_STORM,       /* regional (arid only): dust raises cooling load */
    WEV_GRID_EMERGENCY,   /* regional: energy price up, outage odds x5 */
    WEV_REGULATORY_SHOCK, /* global: one-off BTC price move */
    WEV_FEE_SPIKE,        /* global: mempool congestion, fee share up */
    WEV_COUNT
};

/* The names by type, NULL-terminated (usable as a VENUM choice list). */
extern const char *const wevent_names[WEV_COUNT + 1];

/* True when events of this type happen in one region (false: global). */
bool wevent_regional(int type);

/* Index of name, or -1 when unknown. */
int wevent_find(const char *name);

#endif
