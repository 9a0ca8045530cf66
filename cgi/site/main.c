/*
 * cgi/site/main.c - the site service: route table and pool entry point.
 */
#include "app.h"
#include "sites.h"

static const struct route routes[] = {
    {"GET", "/site/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    {"POST", "/site/create", sites_create, ROUTE_AUTH | ROUTE_JSON, 30, 60},
    {"GET", "/sites", sites_list, ROUTE_AUTH, 0, 0},
    {"GET", "/site/:id", sites_get, ROUTE_AUTH, 0, 0},
};

static const struct app_service svc = {
    .name = "site",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
    .needs = APP_DB | APP_REDIS,
};

int main(int argc, char **argv)
{
    return app_main(argc, argv, &svc);
}
