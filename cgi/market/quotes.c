/*
 * quotes.c - GET /market/list and GET /market/book/:instrument.
 *
 * tickd writes, every tick, the public instrument list of the world
 * (market_worlds.list_json: last, mark, best bid/ask, change and volume
 * over the last 24 game hours, funding, option greeks) and each instrument's
 * aggregated depth (market_instruments.book).  The list is public and hot:
 * it is kept in Redis under market:list:<world> for one tick (PX = the
 * world's tick length), so a request costs one Redis GET, and nginx
 * micro-caches the answer for a second in front of that.  Nothing here
 * computes prices or writes to PostgreSQL.
 */
#include "quotes.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_CACHE_MIN_MS 200 /* never cache for less (very fast test worlds) */

struct list_in {
    int64_t world;
};

static const struct valid_rule list_rules[] = {
    VID(struct list_in, world, 0),
    VALID_END,
};

/* $1 = a world id, 0 for the default world. */
#define WORLD_OR_DEFAULT                                                                           \
    "(CASE WHEN $1::bigint > 0 THEN $1::bigint ELSE (SELECT id FROM worlds WHERE is_default) END)"

DB_STMT(q_list, "SELECT m.list_json, w.tick_ms FROM market_worlds m JOIN worlds w ON "
                "w.id = m.world_id WHERE m.world_id = " WORLD_OR_DEFAULT);
DB_STMT(q_book, "SELECT i.book, m.tick FROM market_instruments i JOIN market_worlds m ON "
                "m.world_id = i.world_id WHERE i.world_id = " WORLD_OR_DEFAULT
                " AND i.name = $2 AND i.listed");

int quotes_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct list_in in = {0};
    char w[24], px[24];
    const char *key, *p[1] = {w};
    redisReply *rr;
    PGresult *r;

    if (valid_query(req, list_rules, &in, err) != BT_OK)
        return BT_ERR;
    snprintf(w, sizeof(w), "%" PRId64, in.world);
    if (!(key = rds_key(&app->rds, req->arena, "market:list:%s", w)))
        return err_internal(err, "out of memory");
    {
        const char *argv[2] = {"GET", key};
        if (!(rr = rds_cmd(&app->rds, req->arena, err, 2, argv, NULL)))
            return BT_ERR;
    }
    if (rr->type == REDIS_REPLY_STRING) {
        http_resp_raw(resp, 200, "application/json", rr->str, rr->len);
        return BT_OK;
    }
    if (!(r = db_exec(&app->db, req->arena, &q_list, 1, p, err)))
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_set(err, 404, "not-found", "this world has no market yet");
    {
        long long ms = db_i64(r, 0, 1);
        const char *body = db_str(r, 0, 0);
        const char *argv[5] = {"SET", key, body, "PX", px};
        size_t lens[5] = {3, strlen(key), strlen(body), 2, 0};
        snprintf(px, sizeof(px), "%lld", ms > LIST_CACHE_MIN_MS ? ms : LIST_CACHE_MIN_MS);
        lens[4] = strlen(px);
        /* A cache that cannot be written is still an answer. */
        if (!rds_cmd(&app->rds, req->arena, err, 5, argv, lens))
            err_clear(err);
        http_resp_raw(resp, 200, "application/json", body, lens[2]);
    }
    return BT_OK;
}

int quotes_book(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const char *name = http_param(req, "instrument");
    char w[24];
    const char *p[2] = {w, name};
    struct json_object *o;
    PGresult *r;

    if (!name || strlen(name) >= 32)
        return err_set(err, 404, "not-found", "no such instrument");
    snprintf(w, sizeof(w), "%" PRId64, req->who.world_id);
    if (!(r = db_exec(&app->db, req->arena, &q_book, 2, p, err)))
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_set(err, 404, "not-found", "no such instrument");
    if (!(o = json_tokener_parse(db_str(r, 0, 0))))
        return err_internal(err, "unreadable book of %s", name);
    json_object_object_add(o, "instrument", json_object_new_string(name));
    json_object_object_add(o, "tick", json_object_new_int64(db_i64(r, 0, 1)));
    http_resp_json(resp, 200, o);
    return BT_OK;
}
