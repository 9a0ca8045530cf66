/*
 * cgi/research/main.c - the research service.
 *
 * Its pool, nginx location and liveness route exist so that operators can
 * deploy and watch it; the game endpoints arrive with their feature issue.
 */
#include "app.h"

static const struct route routes[] = {
    {"GET", "/research/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
};

static const struct app_service svc = {
    .name = "research",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
    .needs = APP_DB | APP_REDIS,
};

int main(int argc, char **argv)
{
    return app_main(argc, argv, &svc);
}
