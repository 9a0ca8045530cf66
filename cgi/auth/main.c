/*
 * cgi/auth/main.c - the auth service: route table and pool entry point.
 *
 * Register, guest, login, refresh and logout are public (the body is the
 * credential); upgrade needs the guest's access token.  Per-IP limits on
 * /auth/ are nginx's (limit_req zone bt_auth); the service limit below is
 * a backstop of the same order, and failed logins are limited per account
 * in login.c.
 */
#include "session.h"

static const struct route routes[] = {
    {"GET", "/auth/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    {"POST", "/auth/register", post_register, ROUTE_JSON, 0, 0},
    {"POST", "/auth/login", post_login, ROUTE_JSON, 0, 0},
    {"POST", "/auth/refresh", post_refresh, ROUTE_JSON, 0, 0},
    {"POST", "/auth/logout", post_logout, ROUTE_JSON, 0, 0},
    {"POST", "/auth/guest", post_guest, ROUTE_JSON, 0, 0},
    {"POST", "/auth/upgrade", post_upgrade, ROUTE_AUTH | ROUTE_JSON, 0, 0},
};

static const struct app_service svc = {
    .name = "auth",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
    .needs = APP_DB | APP_REDIS,
    .rate_limit = 600, /* per route and client address per minute; nginx is stricter */
    .rate_window_s = 60,
    .init = session_init,
    .fini = session_fini,
};

int main(int argc, char **argv)
{
    return app_main(argc, argv, &svc);
}
