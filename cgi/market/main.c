/*
 * cgi/market/main.c - the market service: route table and pool entry point.
 * Handlers: quotes.c (instrument list, book), orders.c (trade, cancel, the
 * caller's orders, fills and positions).
 */
#include "app.h"
#include "orders.h"
#include "quotes.h"

static const struct route routes[] = {
    {"GET", "/market/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    /* Public, cached per tick (Redis) and micro-cached by nginx. */
    {"GET", "/market/list", quotes_list, ROUTE_PUBLIC, 0, 0},
    {"GET", "/market/book/:instrument", quotes_book, ROUTE_AUTH, 0, 0},
    /* Traders send bursts; every order is re-checked by tickd. */
    {"POST", "/market/trade", orders_trade, ROUTE_AUTH | ROUTE_JSON, 600, 60},
    {"POST", "/market/cancel", orders_cancel, ROUTE_AUTH | ROUTE_JSON, 600, 60},
    {"GET", "/market/orders", orders_list, ROUTE_AUTH, 0, 0},
    {"GET", "/market/fills", orders_fills, ROUTE_AUTH, 0, 0},
    {"GET", "/market/positions", orders_positions, ROUTE_AUTH, 0, 0},
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
