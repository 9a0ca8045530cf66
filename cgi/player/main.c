/*
 * cgi/player/main.c - the player service: route table and pool entry point.
 * Handlers: profile.c (profiles), history.c (per-tick mining results).
 */
#include "app.h"

int get_player(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int get_player_me(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);
int get_player_history(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err);

static const struct route routes[] = {
    {"GET", "/player/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    {"GET", "/player/me", get_player_me, ROUTE_AUTH, 0, 0},
    {"GET", "/player/me/history", get_player_history, ROUTE_AUTH, 0, 0},
    {"GET", "/player/:id", get_player, ROUTE_AUTH, 0, 0},
};

static const struct app_service svc = {
    .name = "player",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
    .needs = APP_DB | APP_REDIS,
};

int main(int argc, char **argv)
{
    return app_main(argc, argv, &svc);
}
