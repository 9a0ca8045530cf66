/*
 * cgi/event/realtime.c - subscribe tickets for the private live channel and
 * the authorizer nginx consults before a subscriber may join it.
 *
 * Browsers' EventSource cannot send an Authorization header, and an access
 * token in a URL would end up in logs and histories.  So a client first
 * trades its bearer token for a ticket (POST /realtime/ticket): 256 random
 * bits, prefixed by the user id ("<uid>.<base64url>"), valid for
 * BT_LIVE_TICKET_TTL seconds and bound in Redis to the user and to the exact
 * channel pair it may open (world.<wid> + company.<cid>).  Ownership (or the
 * admin role) is checked here, once, against PostgreSQL.
 *
 * The subscriber location /live/world/N/company/M runs `auth_request` to
 * the internal location /realtime/authorize, which nginx maps to
 * realtime_authorize below with the ticket and the channel ids as FastCGI
 * parameters (never client-controlled: clients can only add HTTP_* ones).
 * The authorizer consumes the ticket with one GETDEL, so it is single-use
 * even when two nodes race for it, checks the binding and the ban list, and
 * answers 204 (subscribe) or 403.  Redis stores only a hash of the ticket.
 *
 * The user id in front of the ticket lets nginx count connections per user
 * (limit_conn keyed on it) before the authorizer runs; a forged prefix gains
 * nothing, because the ticket's key in Redis covers the whole string.
 *
 * This file never publishes and never reads the message stream.
 */
#include "realtime.h"

#include "auth.h"
#include "log.h"
#include "presence.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKET_RANDOM_BYTES 32
/* base64url without padding of 32 bytes */
#define TICKET_RANDOM_LEN 43
#define TICKET_MAX_LEN    (19 + 1 + TICKET_RANDOM_LEN)
#define TICKET_HASH_BYTES 16

DB_STMT(q_company, "SELECT user_id, world_id FROM companies WHERE id = $1");

/* The Redis key of a ticket: a hash, so a dump of Redis reveals no ticket. */
static const char *ticket_key(struct app *app, struct arena *a, const char *ticket)
{
    unsigned char h[TICKET_HASH_BYTES];
    char hex[2 * TICKET_HASH_BYTES + 1];

    crypto_generichash(h, sizeof(h), (const unsigned char *)ticket, strlen(ticket), NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    return rds_key(&app->rds, a, "live:ticket:%s", hex);
}

/* Parses a decimal id of 1..18 digits; false otherwise. */
static bool parse_id(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (!s || len == 0 || len > 18)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v > 0;
}

/* "<uid>.<43 base64url chars>" with the uid in front parsed into *uid. */
static bool ticket_well_formed(const char *t, int64_t *uid)
{
    const char *dot = t ? strchr(t, '.') : NULL;
    size_t n;

    if (!dot || strlen(t) > TICKET_MAX_LEN || !parse_id(t, (size_t)(dot - t), uid))
        return false;
    n = strlen(dot + 1);
    return n == TICKET_RANDOM_LEN &&
           strspn(dot + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

struct ticket_in {
    int64_t world;
    int64_t company;
};

static const struct valid_rule ticket_rules[] = {
    VID(struct ticket_in, world, 0),
    VID(struct ticket_in, company, 0),
    VALID_END,
};

/* Decides which company channel the caller may open; fills in->company and
 * in->world (the company's world) or fails with 403/404/400. */
static int ticket_scope(struct app *app, struct http_req *req, struct ticket_in *in,
                        struct bt_err *err)
{
    bool admin = strcmp(req->who.role, "admin") == 0;
    char cid[24];
    const char *p[1] = {cid};
    PGresult *r;
    int64_t owner, world;

    if (in->company == 0)
        in->company = req->who.company_id;
    if (in->company <= 0)
        return err_set(err, 403, "forbidden",
                       "you have no company; the public channel needs no ticket");
    if (!admin && in->company != req->who.company_id)
        return err_set(err, 403, "forbidden", "you may only subscribe to your own company");
    snprintf(cid, sizeof(cid), "%" PRId64, in->company);
    r = db_exec(&app->db, req->arena, &q_company, 1, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) == 0)
        return admin ? err_set(err, 404, "not-found", "no such company")
                     : err_set(err, 403, "forbidden", "you may only subscribe to your own company");
    owner = db_i64(r, 0, 0);
    world = db_i64(r, 0, 1);
    if (!admin && owner != req->who.user_id)
        return err_set(err, 403, "forbidden", "you may only subscribe to your own company");
    if (in->world != 0 && in->world != world) {
        err_field(err, "world", "mismatch", "company %" PRId64 " lives in world %" PRId64,
                  in->company, world);
        return err_check_fields(err);
    }
    in->world = world;
    return BT_OK;
}

/* "http://host" -> "ws://host" (and https -> wss) into the arena. */
static const char *ws_base(struct arena *a, const char *base)
{
    const char *ws = NULL;

    if (strncmp(base, "https://", 8) == 0)
        ws = arena_printf(a, "wss://%s", base + 8);
    else if (strncmp(base, "http://", 7) == 0)
        ws = arena_printf(a, "ws://%s", base + 7);
    return ws ? ws : base;
}

int realtime_ticket(struct app *app, struct http_req *req, struct http_resp *resp,
                    struct bt_err *err)
{
    struct ticket_in in = {0, 0};
    unsigned char rnd[TICKET_RANDOM_BYTES];
    char b64[TICKET_RANDOM_LEN + 1], ttl[16];
    const char *ticket, *key, *binding, *path, *ch_world, *ch_company, *sse, *ws;
    struct json_object *o, *channels;
    redisReply *rep;

    /* The body is optional: {} or nothing asks for the caller's own company. */
    if (req->content_length > 0) {
        if (http_read_json(req, app->cfg.body_max, err) != BT_OK ||
            valid_object(req->json, ticket_rules, &in, 0, err) != BT_OK)
            return BT_ERR;
    }
    if (ticket_scope(app, req, &in, err) != BT_OK)
        return BT_ERR;
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2base64(b64, sizeof(b64), rnd, sizeof(rnd), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof(rnd));
    ticket = arena_printf(req->arena, "%" PRId64 ".%s", req->who.user_id, b64);
    binding = arena_printf(req->arena, "%" PRId64 " %" PRId64 " %" PRId64, req->who.user_id,
                           in.world, in.company);
    path = arena_printf(req->arena, "/live/world/%" PRId64 "/company/%" PRId64 "?ticket=%s",
                        in.world, in.company, ticket);
    ch_world = arena_printf(req->arena, "world.%" PRId64, in.world);
    ch_company = arena_printf(req->arena, "company.%" PRId64, in.company);
    sse = arena_printf(req->arena, "%s%s", app->cfg.public_url, path ? path : "");
    ws = arena_printf(req->arena, "%s%s", ws_base(req->arena, app->cfg.public_url),
                      path ? path : "");
    key = ticket ? ticket_key(app, req->arena, ticket) : NULL;
    if (!ticket || !key || !binding || !path || !ch_world || !ch_company || !sse || !ws)
        return err_internal(err, "out of memory");
    snprintf(ttl, sizeof(ttl), "%d", app->cfg.live_ticket_ttl_s);
    {
        const char *argv[] = {"SET", key, binding, "EX", ttl, "NX"};
        rep = rds_cmd(&app->rds, req->arena, err, 6, argv, NULL);
        if (!rep)
            return BT_ERR;
        if (rep->type != REDIS_REPLY_STATUS)
            return err_internal(err, "ticket collision"); /* 2^-256: a broken RNG */
    }
    o = json_object_new_object();
    json_object_object_add(o, "ticket", json_object_new_string(ticket));
    json_object_object_add(o, "expires_in", json_object_new_int(app->cfg.live_ticket_ttl_s));
    json_object_object_add(o, "world", json_object_new_int64(in.world));
    json_object_object_add(o, "company", json_object_new_int64(in.company));
    channels = json_object_new_array();
    json_object_array_add(channels, json_object_new_string(ch_world));
    json_object_array_add(channels, json_object_new_string(ch_company));
    json_object_object_add(o, "channels", channels);
    json_object_object_add(o, "path", json_object_new_string(path));
    json_object_object_add(o, "sse", json_object_new_string(sse));
    json_object_object_add(o, "websocket", json_object_new_string(ws));
    http_resp_json(resp, 201, o);
    http_resp_header(resp, "Cache-Control", "no-store");
    log_msg(LOGL_INFO, req->request_id,
            "live ticket for user %" PRId64 " world %" PRId64 " company %" PRId64, req->who.user_id,
            in.world, in.company);
    return BT_OK;
}

static int deny(struct bt_err *err, const char *why)
{
    return err_set(err, 403, "forbidden", "%s", why);
}

int realtime_authorize(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err)
{
    const char *marker = req->getparam(req->src, "BT_LIVE_AUTH");
    const char *ticket = req->getparam(req->src, "BT_LIVE_TICKET");
    const char *ws = req->getparam(req->src, "BT_LIVE_WORLD");
    const char *cs = req->getparam(req->src, "BT_LIVE_COMPANY");
    int64_t uid = 0, world = 0, company = 0, b_uid, b_world, b_company;
    bool banned = false;
    redisReply *rep;

    /* Only nginx's internal location sets BT_LIVE_AUTH; a client cannot. */
    if (!marker || strcmp(marker, "1") != 0)
        return err_set(err, 404, "not-found", "no such endpoint");
    if (!ticket || !*ticket)
        return deny(err, "a subscribe ticket is required");
    if (!ticket_well_formed(ticket, &uid) || !parse_id(ws, ws ? strlen(ws) : 0, &world) ||
        !parse_id(cs, cs ? strlen(cs) : 0, &company))
        return deny(err, "malformed ticket or channel");
    {
        const char *argv[] = {"GETDEL", ticket_key(app, req->arena, ticket)};
        if (!argv[1])
            return err_internal(err, "out of memory");
        rep = rds_cmd(&app->rds, req->arena, err, 2, argv, NULL);
        if (!rep)
            return BT_ERR;
    }
    if (rep->type != REDIS_REPLY_STRING)
        return deny(err, "unknown, expired or already used ticket");
    if (sscanf(rep->str, "%" SCNd64 " %" SCNd64 " %" SCNd64, &b_uid, &b_world, &b_company) != 3)
        return err_internal(err, "malformed ticket binding");
    if (b_uid != uid || b_world != world || b_company != company)
        return deny(err, "the ticket was issued for other channels");
    if (auth_is_banned(app, uid, &banned, err) != BT_OK)
        return BT_ERR;
    if (banned)
        return deny(err, "this account is banned");
    if (presence_mark(&app->rds, req->arena, world, company,
                      presence_now_ms() + (int64_t)app->cfg.live_presence_s * 1000, err) != BT_OK)
        return BT_ERR;
    log_msg(LOGL_INFO, req->request_id,
            "live subscribe user %" PRId64 " world %" PRId64 " company %" PRId64, uid, world,
            company);
    http_resp_empty(resp, 204);
    return BT_OK;
}
