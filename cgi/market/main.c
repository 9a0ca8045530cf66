/*
 * cgi/market/main.c - the market service: route table and pool entry point.
 */
#include "app.h"

static const struct route routes[] = {
    {"GET", "/market/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
};

static const struct app_service svc = {
    .name = "market",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
    .needs = APP_DB | APP_REDIS,
};

int main(int argc, char **argv)
{
    return app_main(argc, argv, &svc);
}
