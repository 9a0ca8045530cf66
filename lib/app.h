/*
 * app.h - a FastCGI service: the responder loop, its process pool and the
 * request pipeline every handler runs behind.
 *
 * A service binary is a route table plus a few hooks:
 *
 *     static const struct route routes[] = {...};
 *     static const struct app_service svc = {
 *         .name = "player", .routes = routes, .nroutes = BT_ARRAY_LEN(routes),
 *         .needs = APP_DB | APP_REDIS,
 *     };
 *     int main(int argc, char **argv) { return app_main(argc, argv, &svc); }
 *
 * app_main loads the configuration, opens the listening socket (BT_SOCKET),
 * forks BT_WORKERS workers and supervises them (restart on crash, graceful
 * stop on SIGTERM/SIGINT: in-flight requests finish, idle workers exit).
 * Each worker keeps one PostgreSQL and one Redis connection for its life.
 *
 * Per request (app_handle): route -> 404/405; loopback-only check; bearer
 * authentication (ROUTE_AUTH/ROUTE_ADMIN); rate limit; JSON body
 * (ROUTE_JSON); the handler; then one access-log line and the metrics.  A
 * handler error becomes problem+json; a 5xx is logged with the request id
 * and its internal detail, which is never sent.
 */
#ifndef BT_APP_H
#define BT_APP_H

#include <stdbool.h>
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "metrics.h"
#include "rds.h"
#include "route.h"
#include "token.h"

#ifndef BT_VERSION
#define BT_VERSION "dev"
#endif

enum app_needs { APP_DB = 1u << 0, APP_REDIS = 1u << 1 };

struct app;

struct app_service {
    const char *name;
    const struct route *routes;
    size_t nroutes;
    unsigned needs;
    int rate_limit;    /* default requests per window per caller (0 = 120) */
    int rate_window_s; /* default window (0 = 60 s) */
    /* Per-worker set-up and tear-down (optional). */
    int (*init)(struct app *app, struct bt_err *err);
    void (*fini)(struct app *app);
    /* Command-line mode (optional): `bt-<name> <command> ...` runs this
     * instead of serving.  Returns the process exit status. */
    int (*cli)(struct app *app, int argc, char **argv);
};

struct app_route_metrics;

struct app {
    const struct app_service *svc;
    struct config cfg;
    struct db db;
    struct rds rds;
    struct token_keys keys;
    bool have_keys;
    struct metrics *metrics;
    struct app_route_metrics *rmetrics; /* one per route + one for unmatched */
    struct arena arena;                 /* per request, reset after each */
    struct buf out;                     /* rendered answer, reused */
    int worker;                         /* slot in the pool, 0-based */
    void *state;                        /* service-specific, set by init */
};

int app_main(int argc, char **argv, const struct app_service *svc);

/* Sets up an app without FastCGI (unit tests, CLIs): config from the
 * environment, connections per svc->needs (failures are not fatal). */
int app_init(struct app *app, const struct app_service *svc, int worker, struct bt_err *err);
void app_fini(struct app *app);

/* Runs the whole pipeline for one request and leaves the answer in resp. */
void app_handle(struct app *app, struct http_req *req, struct http_resp *resp);

/* A liveness handler every service can mount: answers 200 with the
 * service name, version and pid, touching nothing else. */
int app_healthz(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

/* True for 127.0.0.0/8, ::1 and unix-socket callers. */
bool app_is_loopback(const char *addr);

#endif
