/*
 * cgi/event/main.c - the event service.
 *
 * Its pool, nginx location and liveness route exist so that operators can
 * deploy and watch it; the game endpoints arrive with their feature issue.
 */
#include "app.h"
#include "intents.h"
#include "realtime.h"
#include "world.h"

static const struct route routes[] = {
    {"GET", "/event/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    {"GET", "/world", world_get, ROUTE_AUTH, 0, 0},
    {"GET", "/regions", world_regions, ROUTE_AUTH, 0, 0},
    {"GET", "/events", world_events, ROUTE_AUTH, 0, 0},
    {"GET", "/world/history", world_history, ROUTE_AUTH, 0, 0},
    {"GET", "/intents/:id", intents_get, ROUTE_AUTH, 0, 0},
    {"POST", "/realtime/ticket", realtime_ticket, ROUTE_AUTH, 30, 60},
    {"GET", "/realtime/authorize", realtime_authorize, ROUTE_NO_RATE, 0, 0},
};

static const struct app_service svc = {
    .name = "event",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
    .needs = APP_DB | APP_REDIS,
};

int main(int argc, char **argv)
{
    return app_main(argc, argv, &svc);
}
