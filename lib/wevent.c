/*
 * wevent.c - the world event types (see wevent.h).  Their odds and effects
 * live with the model in tickd/world_events.c; this file only names them.
 */
#include "wevent.h"

#include <string.h>

const char *const wevent_names[WEV_COUNT + 1] = {
    [WEV_HEAT_WAVE] = "heat_wave",
    [WEV_COLD_SNAP] = "cold_snap",
    [WEV_DUST_STORM] = "dust_storm",
    [WEV_GRID_EMERGENCY] = "grid_emergency",
    [WEV_REGULATORY_SHOCK] = "regulatory_shock",
    [WEV_FEE_SPIKE] = "fee_spike",
    [WEV_COUNT] = NULL,
};

bool wevent_regional(int type)
{
    return type >= 0 && type < WEV_REGULATORY_SHOCK;
}

int wevent_find(const char *name)
{
    int i;

    for (i = 0; i < WEV_COUNT; i++)
        if (strcmp(wevent_names[i], name) == 0)
            return i;
    return -1;
}
