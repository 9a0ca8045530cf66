/*
 * cgi/admin/main.c - the operator-facing service: the API index, liveness,
 * readiness and the Prometheus exposition.  (Admin actions on players and
 * worlds are added beside these as the game grows.)
 *
 * /healthz touches nothing but this process.  /readyz checks PostgreSQL,
 * Redis and that tickd committed a tick of every running world recently;
 * it answers 503 naming what is failing.  /metrics is served to loopback
 * callers or to admins, and reads only the metrics files (lib/metrics.h).
 */
#include "app.h"
#include "auth.h"
#include "log.h"
#include "params.h"
#include "rigs.h"

#include "users.h"
#include "valid.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* A world is stale when its last tick is older than this many intervals
 * (plus a fixed allowance for a slow commit). */
#define STALE_INTERVALS    3
#define STALE_ALLOWANCE_MS 2000

DB_STMT(q_worlds,
        "SELECT id, name, tick, tick_ms, is_default, "
        "COALESCE((extract(epoch FROM clock_timestamp() - last_tick_at) * 1000)::bigint, -1) "
        "FROM worlds WHERE status = 'running' ORDER BY id");

static struct json_object *channel_links(struct app *app, long long world)
{
    struct json_object *o = json_object_new_object();
    char url[CONFIG_STR + 64];
    const char *base = app->cfg.public_url;

    snprintf(url, sizeof(url), "%s/live/world/%lld", base, world);
    json_object_object_add(o, "tick_channel", json_object_new_string(url));
    json_object_object_add(o, "sse", json_object_new_string(url));
    /* The WebSocket URL is the same location with the ws(s) scheme. */
    {
        const char *host = strstr(base, "://");
        snprintf(url, sizeof(url), "%s%s/live/world/%lld",
                 strncmp(base, "https://", 8) == 0 ? "wss://" : "ws://", host ? host + 3 : base,
                 world);
    }
    json_object_object_add(o, "websocket", json_object_new_string(url));
    return o;
}

static int get_index(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct bt_err *err)
{
    struct json_object *o, *worlds, *links;
    PGresult *r = db_exec(&app->db, req->arena, &q_worlds, 0, NULL, err);
    long long def = 0;
    char url[CONFIG_STR + 64];
    int i;

    if (!r)
        return BT_ERR;
    o = json_object_new_object();
    json_object_object_add(o, "service", json_object_new_string("bitcoin-tycoon"));
    json_object_object_add(o, "version", json_object_new_string(BT_VERSION));
    links = json_object_new_object();
    snprintf(url, sizeof(url), "%s/docs/openapi.yaml", app->cfg.public_url);
    json_object_object_add(links, "api_description", json_object_new_string(url));
    snprintf(url, sizeof(url), "%s/admin/", app->cfg.public_url);
    json_object_object_add(links, "admin_panel", json_object_new_string(url));
    snprintf(url, sizeof(url), "%s/healthz", app->cfg.public_url);
    json_object_object_add(links, "health", json_object_new_string(url));
    snprintf(url, sizeof(url), "%s/readyz", app->cfg.public_url);
    json_object_object_add(links, "readiness", json_object_new_string(url));
    json_object_object_add(o, "links", links);
    worlds = json_object_new_array();
    for (i = 0; i < PQntuples(r); i++) {
        struct json_object *w = json_object_new_object();
        long long id = db_i64(r, i, 0);
        json_object_object_add(w, "id", json_object_new_int64(id));
        json_object_object_add(w, "name", json_object_new_string(db_str(r, i, 1)));
        json_object_object_add(w, "tick", json_object_new_int64(db_i64(r, i, 2)));
        json_object_object_add(w, "tick_ms", json_object_new_int64(db_i64(r, i, 3)));
        json_object_object_add(w, "live", channel_links(app, id));
        json_object_array_add(worlds, w);
        if (db_bool(r, i, 4) || !def)
            def = id;
    }
    json_object_object_add(o, "worlds", worlds);
    if (def) {
        struct json_object *live = channel_links(app, def);
        json_object_object_add(live, "world", json_object_new_int64(def));
        json_object_object_add(o, "live", live);
    }
    http_resp_json(resp, 200, o);
    return BT_OK;
}

static struct json_object *check(const char *status, const char *detail)
{
    struct json_object *c = json_object_new_object();

    json_object_object_add(c, "status", json_object_new_string(status));
    if (detail)
        json_object_object_add(c, "detail", json_object_new_string(detail));
    return c;
}

/* Fills checks["tickd"]; returns true when every running world ticked recently. */
static bool check_tickd(struct app *app, struct http_req *req, struct json_object *checks)
{
    struct bt_err e;
    struct json_object *c, *worlds;
    PGresult *r;
    bool ok = true;
    int i;

    err_clear(&e);
    r = db_exec(&app->db, req->arena, &q_worlds, 0, NULL, &e);
    if (!r) {
        json_object_object_add(checks, "tickd", check("unknown", "postgres is unavailable"));
        return false;
    }
    worlds = json_object_new_array();
    for (i = 0; i < PQntuples(r); i++) {
        struct json_object *w = json_object_new_object();
        long long age = db_i64(r, i, 5), tick_ms = db_i64(r, i, 3);
        bool fresh = age >= 0 && age <= STALE_INTERVALS * tick_ms + STALE_ALLOWANCE_MS;
        json_object_object_add(w, "world", json_object_new_int64(db_i64(r, i, 0)));
        json_object_object_add(w, "tick", json_object_new_int64(db_i64(r, i, 2)));
        json_object_object_add(w, "last_tick_age_ms", age >= 0 ? json_object_new_int64(age) : NULL);
        json_object_object_add(w, "status", json_object_new_string(fresh ? "ok" : "stale"));
        json_object_array_add(worlds, w);
        ok = ok && fresh;
    }
    if (PQntuples(r) == 0)
        ok = false;
    c = check(ok ? "ok" : "down", ok                  ? NULL
                                  : PQntuples(r) == 0 ? "no running world"
                                                      : "a world has not ticked recently");
    json_object_object_add(c, "worlds", worlds);
    json_object_object_add(checks, "tickd", c);
    return ok;
}

static int get_readyz(struct app *app, struct http_req *req, struct http_resp *resp,
                      struct bt_err *err)
{
    struct json_object *checks = json_object_new_object();
    char failing[128] = "";
    bool pg = db_ping(&app->db), redis = rds_ping(&app->rds), tick;

    json_object_object_add(checks, "postgres", check(pg ? "ok" : "down", NULL));
    json_object_object_add(checks, "redis", check(redis ? "ok" : "down", NULL));
    tick = pg && check_tickd(app, req, checks);
    if (!pg)
        json_object_object_add(checks, "tickd", check("unknown", "postgres is unavailable"));
    if (pg && redis && tick) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "status", json_object_new_string("ready"));
        json_object_object_add(o, "checks", checks);
        http_resp_json(resp, 200, o);
        return BT_OK;
    }
    snprintf(failing, sizeof(failing), "%s%s%s", pg ? "" : "postgres ", redis ? "" : "redis ",
             tick || !pg ? "" : "tickd ");
    failing[strlen(failing) - 1] = '\0';
    err_set(err, 503, "unavailable", "not ready: %s", failing);
    err->retry_after = 2;
    http_resp_problem(resp, req, err);
    json_object_object_add(resp->json, "checks", checks);
    return BT_OK; /* the problem answer is the answer */
}

static int get_metrics(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err)
{
    char dir[CONFIG_STR + 16];
    struct buf b;
    char *copy;

    if (!app_is_loopback(req->remote_addr) && auth_request(app, req, true, err) != BT_OK)
        return BT_ERR;
    snprintf(dir, sizeof(dir), "%s/metrics", app->cfg.run_dir);
    buf_init(&b, 16 * 1024 * 1024);
    if (metrics_render(dir, &b) != BT_OK) {
        buf_free(&b);
        return err_internal(err, "metrics exposition too large");
    }
    copy = arena_strndup(req->arena, b.data ? b.data : "", b.len);
    buf_free(&b);
    if (!copy)
        return err_internal(err, "out of memory");
    http_resp_raw(resp, 200, "text/plain; version=0.0.4; charset=utf-8", copy, strlen(copy));
    return BT_OK;
}

/* ---- worlds (admin) ---- */

DB_STMT(q_world_list, "SELECT id, name, seed, tick, tick_ms, status, is_default, created_at, "
                      "last_tick_at FROM worlds ORDER BY id");
DB_STMT(q_world_patch,
        "UPDATE worlds SET tick_ms = COALESCE($2::int, tick_ms), "
        "status = COALESCE($3, status), name = COALESCE($4, name) WHERE id = $1 "
        "RETURNING id, name, seed, tick, tick_ms, status, is_default, created_at, last_tick_at");

static struct json_object *world_json(const PGresult *r, int i)
{
    struct json_object *w = json_object_new_object();

    json_object_object_add(w, "id", json_object_new_int64(db_i64(r, i, 0)));
    json_object_object_add(w, "name", json_object_new_string(db_str(r, i, 1)));
    json_object_object_add(w, "seed", json_object_new_int64(db_i64(r, i, 2)));
    json_object_object_add(w, "tick", json_object_new_int64(db_i64(r, i, 3)));
    json_object_object_add(w, "tick_ms", json_object_new_int64(db_i64(r, i, 4)));
    json_object_object_add(w, "status", json_object_new_string(db_str(r, i, 5)));
    json_object_object_add(w, "is_default", json_object_new_boolean(db_bool(r, i, 6)));
    json_object_object_add(w, "created_at", json_object_new_string(db_str(r, i, 7)));
    json_object_object_add(w, "last_tick_at",
                           db_str(r, i, 8) ? json_object_new_string(db_str(r, i, 8)) : NULL);
    return w;
}

static int list_worlds(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err)
{
    PGresult *r = db_exec(&app->db, req->arena, &q_world_list, 0, NULL, err);
    struct json_object *arr;
    int i;

    if (!r)
        return BT_ERR;
    arr = json_object_new_array();
    for (i = 0; i < PQntuples(r); i++)
        json_object_array_add(arr, world_json(r, i));
    http_resp_json(resp, 200, arr);
    return BT_OK;
}

struct world_patch {
    int64_t tick_ms;
    const char *status;
    const char *name;
};

static const char *const world_statuses[] = {"running", "paused", NULL};

static const struct valid_rule world_patch_rules[] = {
    VINT(struct world_patch, tick_ms, 0, 100, 3600000),
    VENUM(struct world_patch, status, 0, world_statuses),
    VSTR(struct world_patch, name, VF_PRINTABLE, 1, 64),
    VALID_END,
};

static int patch_world(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err)
{
    struct world_patch in = {0, NULL, NULL};
    const char *p[4];
    char tick[24];
    PGresult *r;

    if (valid_object(req->json, world_patch_rules, &in, 0, err) != BT_OK)
        return BT_ERR;
    snprintf(tick, sizeof(tick), "%lld", (long long)in.tick_ms);
    p[0] = http_param(req, "id");
    p[1] = in.tick_ms ? tick : NULL;
    p[2] = in.status;
    p[3] = in.name;
    if (strspn(p[0], "0123456789") != strlen(p[0]) || strlen(p[0]) > 18)
        return err_set(err, 404, "not-found", "no such world");
    r = db_exec(&app->db, req->arena, &q_world_patch, 4, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) == 0)
        return err_set(err, 404, "not-found", "no such world");
    log_msg(LOGL_INFO, req->request_id, "admin %lld changed world %s", (long long)req->who.user_id,
            p[0]);
    http_resp_json(resp, 200, world_json(r, 0));
    return BT_OK;
}

static const struct route routes[] = {
    {"GET", "/api/admin/worlds", list_worlds, ROUTE_ADMIN, 0, 0},
    {"PATCH", "/api/admin/worlds/:id", patch_world, ROUTE_ADMIN | ROUTE_JSON, 0, 0},
    {"GET", "/api/admin/worlds/:id/params", params_get, ROUTE_ADMIN, 0, 0},
    {"PATCH", "/api/admin/worlds/:id/params", params_patch, ROUTE_ADMIN | ROUTE_JSON, 0, 0},
    {"POST", "/api/admin/worlds/:id/shock", params_shock, ROUTE_ADMIN | ROUTE_JSON, 0, 0},
    {"PATCH", "/api/admin/rigs/:id", rigs_patch, ROUTE_ADMIN | ROUTE_JSON, 0, 0},

    {"GET", "/api/admin/users", users_list, ROUTE_ADMIN, 0, 0},
    {"GET", "/api/admin/users/:id", users_get, ROUTE_ADMIN, 0, 0},
    {"POST", "/api/admin/users/:id/ban", users_ban, ROUTE_ADMIN | ROUTE_JSON, 0, 0},
    {"POST", "/api/admin/users/:id/unban", users_unban, ROUTE_ADMIN, 0, 0},
    {"GET", "/api/admin/audit", users_audit, ROUTE_ADMIN, 0, 0},
    {"GET", "/", get_index, ROUTE_PUBLIC, 0, 0},
    {"GET", "/healthz", app_healthz, ROUTE_NO_RATE, 0, 0},
    {"GET", "/readyz", get_readyz, ROUTE_NO_RATE, 0, 0},
    {"GET", "/metrics", get_metrics, ROUTE_NO_RATE, 0, 0},
};

static const struct app_service svc = {
    .name = "admin",
    .routes = routes,
    .nroutes = BT_ARRAY_LEN(routes),
    .needs = APP_DB | APP_REDIS,
    .rate_limit = 600,
    .rate_window_s = 60,
    .cli = admin_cli,
};

int main(int argc, char **argv)
{
    return app_main(argc, argv, &svc);
}
