/*
 * cgi/site/main.c - the site service: route table and pool entry point.
 * Handlers: sites.c (build, list, read), rigs.c (rigs, energy, catalog).
 */
#include "app.h"
#include "rigs.h"
#include "sites.h"

static const struct route routes[] = {
    {"GET", "/site/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    {"POST", "/site/create", sites_create, ROUTE_AUTH | ROUTE_JSON, 30, 60},
    {"GET", "/sites", sites_list, ROUTE_AUTH, 0, 0},
    {"GET", "/site/:id", sites_get, ROUTE_AUTH, 0, 0},
    {"GET", "/site/:id/rigs", rigs_list, ROUTE_AUTH, 0, 0},
    {"GET", "/rigs/catalog", rigs_catalog, ROUTE_AUTH, 0, 0},
    /* One company may fire a burst of rig orders (all re-checked by tickd). */
    {"POST", "/site/rig/add", rigs_add, ROUTE_AUTH | ROUTE_JSON, 300, 60},
    {"POST", "/site/rig/remove", rigs_remove, ROUTE_AUTH | ROUTE_JSON, 120, 60},
    {"POST", "/site/rig/firmware", rigs_firmware, ROUTE_AUTH | ROUTE_JSON, 120, 60},
    {"POST", "/site/maintenance", rigs_maintenance, ROUTE_AUTH | ROUTE_JSON, 60, 60},
    {"POST", "/site/energy/contract", rigs_contract, ROUTE_AUTH | ROUTE_JSON, 30, 60},
    {"POST", "/site/energy/cancel", rigs_cancel, ROUTE_AUTH | ROUTE_JSON, 30, 60},
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
