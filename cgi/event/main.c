/*
 * cgi/event/main.c - the event service.
 *
 * Its pool, nginx location and liveness route exist so that operators can
 * deploy and watch it; the game endpoints arrive with their feature issue.
 */
#include "app.h"
#include "intents.h"

static const struct route routes[] = {
    {"GET", "/event/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    {"GET", "/intents/:id", intents_get, ROUTE_AUTH, 0, 0},
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
