/*
 * orders.c - the caller's trading (see orders.h).
 *
 * POST /market/trade parses the body with the rule table tickd applies
 * again (market_trade_parse: decimal strings, enums), then checks every
 * market rule with the same pure code tickd runs at apply time
 * (market_order_check: instrument open, lot and tick steps, size limits,
 * price band, leverage, reduce-only, self-trade, worst-case funds) against
 * the last committed state read in ONE query (instrument, fair value,
 * balances, what the caller's live orders reserve, its position and its
 * own best limits; balances through company_balances(), which adds mining
 * results not yet settled into the ledger and, unlike company_balance(), is
 * inlined into the query and planned with it, not once per call).  Each
 * broken rule is its own 400 field error.  The
 * intent is then recorded (lib/intent.c: Idempotency-Key, one INSERT) and
 * answered 202.  tickd's check is authoritative: orders queued but not yet
 * applied are not counted here.
 *
 * POST /market/cancel answers 404 for an order that is not the caller's
 * live order, exactly as for one that does not exist.  The reads return
 * the caller's rows only, newest first, paginated by a cursor.
 */
#include "orders.h"
#include "auth.h"
#include "intent.h"
#include "market_instr.h"
#include "valid.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX     200

DB_STMT(q_precheck,
        "SELECT i.id, i.kind, i.is_call, i.strike, i.expiry_s, i.open, i.mark, m.fair, "
        "b.usd, b.btc, o.res_usd, o.res_btc, o.max_buy, o.min_sell, "
        "(SELECT qty FROM market_positions p WHERE p.world_id = m.world_id AND p.account = $2 "
        "AND p.instr_id = i.id) "
        "FROM market_worlds m LEFT JOIN market_instruments i ON i.world_id = m.world_id AND "
        "i.name = $3 AND i.listed CROSS JOIN company_balances($2) b, LATERAL (SELECT "
        "COALESCE(sum(res_usd), 0) AS res_usd, "
        "COALESCE(sum(res_btc), 0) AS res_btc, max(limit_uusd) FILTER (WHERE side = 'buy' AND "
        "instr_id = i.id) AS max_buy, min(limit_uusd) FILTER (WHERE side = 'sell' AND instr_id "
        "= i.id) AS min_sell FROM market_orders WHERE company_id = $2 AND status = 'live') o "
        "WHERE m.world_id = $1");
DB_STMT(q_own_live, "SELECT 1 FROM market_orders WHERE id = $1 AND company_id = $2 AND "
                    "status = 'live'");

static int64_t col(const PGresult *r, int c)
{
    return PQgetisnull(r, 0, c) ? 0 : db_i64(r, 0, c);
}

int orders_trade(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct market_order_req o;
    struct market_params prm;
    struct market_instr ins;
    struct market_check c;
    struct market_cost cost;
    char w[24], cid[24];
    const char *p[3] = {w, cid, NULL};
    PGresult *r;

    if (auth_company(req, err) != BT_OK || market_trade_parse(req->json, &o, err) != BT_OK)
        return BT_ERR;
    snprintf(w, sizeof(w), "%" PRId64, req->who.world_id);
    snprintf(cid, sizeof(cid), "%" PRId64, req->who.company_id);
    p[2] = o.instrument;
    if (!(r = db_exec(&app->db, req->arena, &q_precheck, 3, p, err)))
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_set(err, 503, "market-unavailable", "the market of this world is not open yet");
    if (PQgetisnull(r, 0, 8))
        return err_set(err, 409, "company-not-open",
                       "the company opens at the next tick; retry shortly");
    market_params_default(&prm);
    memset(&ins, 0, sizeof(ins));
    c = (struct market_check){.p = &prm, .ins = NULL, .fair = col(r, 7)};
    if (!PQgetisnull(r, 0, 0)) {
        ins.id = (int32_t)col(r, 0);
        ins.kind = (enum market_kind)market_kind_of(db_str(r, 0, 1));
        snprintf(ins.name, sizeof(ins.name), "%s", o.instrument);
        ins.call = db_bool(r, 0, 2);
        ins.strike = col(r, 3);
        ins.expiry_s = col(r, 4);
        ins.open = db_bool(r, 0, 5);
        ins.mark = col(r, 6);
        c.ins = &ins;
        c.ref_price = ins.kind == MARKET_OPTION ? ins.mark : c.fair;
    }
    c.usd_avail = col(r, 8) - col(r, 10);
    c.btc_avail = col(r, 9) - col(r, 11);
    c.own_max_buy = col(r, 12);
    c.own_min_sell = col(r, 13);
    c.position = col(r, 14);
    if (market_order_check(&o, &c, &cost, err) != BT_OK)
        return BT_ERR;
    return intent_record(app, req, resp, "market.trade", req->json, err);
}

int orders_cancel(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    int64_t id;
    char oid[24], cid[24];
    const char *p[2] = {oid, cid};
    PGresult *r;

    if (auth_company(req, err) != BT_OK || market_cancel_parse(req->json, &id, err) != BT_OK)
        return BT_ERR;
    snprintf(oid, sizeof(oid), "%" PRId64, id);
    snprintf(cid, sizeof(cid), "%" PRId64, req->who.company_id);
    if (!(r = db_exec(&app->db, req->arena, &q_own_live, 2, p, err)))
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_set(err, 404, "not-found", "no such open order");
    return intent_record(app, req, resp, "market.cancel", req->json, err);
}

/* ---- reads ---- */

struct page_in {
    int64_t limit, cursor;
    const char *status;
};

static const char *const status_choices[] = {"live", "filled", "cancelled", "expired", NULL};

static const struct valid_rule page_rules[] = {
    VINT(struct page_in, limit, 0, 1, PAGE_MAX),
    VID(struct page_in, cursor, 0),
    VENUM(struct page_in, status, 0, status_choices),
    VALID_END,
};

/* Orders and fills: newest first, ids below the cursor.  $4 = status or NULL. */
DB_STMT(q_orders,
        "SELECT id, instrument, side, type, tif, qty, filled, limit_price, leverage, "
        "reduce_only, status, reason, tick, updated_tick, res_usd, res_btc FROM market_orders "
        "WHERE company_id = $1 AND id < $2 AND ($4::text IS NULL OR status = $4) "
        "ORDER BY id DESC LIMIT $3");
DB_STMT(q_fills, "SELECT id, order_id, instrument, side, qty, price, fee, realized_pnl, tick "
                 "FROM market_fills WHERE company_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
/* Positions: by instrument id, above the cursor. */
DB_STMT(q_positions,
        "SELECT p.instr_id, i.name, p.qty, CASE WHEN p.qty <> 0 THEN round(p.cost / p.qty)::bigint "
        "END, p.leverage, p.margin, p.collateral, "
        "p.funding, i.mark, p.called FROM market_positions p JOIN market_instruments i ON "
        "i.world_id = p.world_id AND i.id = p.instr_id WHERE p.world_id = $4 AND p.account = $1 "
        "AND p.instr_id > $2 ORDER BY p.instr_id LIMIT $3");

static void add_dec(struct json_object *o, const char *k, const PGresult *r, int i, int c,
                    int scale)
{
    char b[40];

    if (PQgetisnull(r, i, c)) {
        json_object_object_add(o, k, NULL);
        return;
    }
    valid_format_decimal(db_i64(r, i, c), scale, b, sizeof(b));
    json_object_object_add(o, k, json_object_new_string(b));
}

static void add_int(struct json_object *o, const char *k, const PGresult *r, int i, int c)
{
    json_object_object_add(o, k,
                           PQgetisnull(r, i, c) ? NULL : json_object_new_int64(db_i64(r, i, c)));
}

static void add_str(struct json_object *o, const char *k, const PGresult *r, int i, int c)
{
    json_object_object_add(o, k,
                           PQgetisnull(r, i, c) ? NULL : json_object_new_string(db_str(r, i, c)));
}

/* Runs a page query ($1 company, $2 cursor, $3 limit, $4 extra) and
 * answers {items, next_cursor} with row() building each item. */
static int page(struct app *app, struct http_req *req, struct http_resp *resp,
                const struct db_stmt *st, int64_t first_cursor, const char *extra,
                struct json_object *(*row)(const PGresult *r, int i), struct bt_err *err)
{
    struct page_in in = {PAGE_DEFAULT, first_cursor, NULL};
    char cid[24], cur[24], lim[24];
    const char *p[4] = {cid, cur, lim, extra};
    struct json_object *o, *items;
    PGresult *r;
    int i, n;

    if (auth_company(req, err) != BT_OK || valid_query(req, page_rules, &in, err) != BT_OK)
        return BT_ERR;
    if (in.status && st != &q_orders) {
        err_field(err, "status", "not_allowed", "only orders have a status");
        return err_check_fields(err);
    }
    if (st == &q_orders)
        p[3] = in.status;
    snprintf(cid, sizeof(cid), "%" PRId64, req->who.company_id);
    snprintf(cur, sizeof(cur), "%" PRId64, in.cursor);
    snprintf(lim, sizeof(lim), "%" PRId64, in.limit);
    if (!(r = db_exec(&app->db, req->arena, st, extra || st == &q_orders ? 4 : 3, p, err)))
        return BT_ERR;
    n = PQntuples(r);
    items = json_object_new_array_ext(n);
    for (i = 0; i < n; i++)
        json_object_array_add(items, row(r, i));
    o = json_object_new_object();
    json_object_object_add(o, "items", items);
    json_object_object_add(o, "next_cursor",
                           n == in.limit ? json_object_new_int64(db_i64(r, n - 1, 0)) : NULL);
    http_resp_json(resp, 200, o);
    return BT_OK;
}

static struct json_object *order_row(const PGresult *r, int i)
{
    struct json_object *o = json_object_new_object();

    add_int(o, "order_id", r, i, 0);
    add_str(o, "instrument", r, i, 1);
    add_str(o, "side", r, i, 2);
    add_str(o, "type", r, i, 3);
    add_str(o, "time_in_force", r, i, 4);
    add_dec(o, "qty", r, i, 5, 8);
    add_dec(o, "filled", r, i, 6, 8);
    add_dec(o, "limit_price", r, i, 7, 6);
    add_int(o, "leverage", r, i, 8);
    json_object_object_add(o, "reduce_only", json_object_new_boolean(db_bool(r, i, 9)));
    add_str(o, "status", r, i, 10);
    add_str(o, "reason", r, i, 11);
    add_int(o, "tick", r, i, 12);
    add_int(o, "updated_tick", r, i, 13);
    add_dec(o, "reserved_usd", r, i, 14, 6);
    add_dec(o, "reserved_btc", r, i, 15, 8);
    return o;
}

static struct json_object *fill_row(const PGresult *r, int i)
{
    struct json_object *o = json_object_new_object();

    add_int(o, "fill_id", r, i, 0);
    add_int(o, "order_id", r, i, 1);
    add_str(o, "instrument", r, i, 2);
    add_str(o, "side", r, i, 3);
    add_dec(o, "qty", r, i, 4, 8);
    add_dec(o, "price", r, i, 5, 6);
    add_dec(o, "fee", r, i, 6, 6);
    add_dec(o, "realized_pnl", r, i, 7, 6);
    add_int(o, "tick", r, i, 8);
    return o;
}

static struct json_object *position_row(const PGresult *r, int i)
{
    struct json_object *o = json_object_new_object();

    add_int(o, "instrument_id", r, i, 0);
    add_str(o, "instrument", r, i, 1);
    add_dec(o, "qty", r, i, 2, 8);
    add_dec(o, "entry_price", r, i, 3, 6); /* cost basis / qty, exact in PostgreSQL */
    add_int(o, "leverage", r, i, 4);
    add_dec(o, "margin", r, i, 5, 6);
    add_int(o, "collateral", r, i, 6); /* option writers: sats (calls), micro-USD (puts) */
    add_dec(o, "funding", r, i, 7, 6);
    add_dec(o, "mark", r, i, 8, 6);
    json_object_object_add(o, "margin_called", json_object_new_boolean(db_bool(r, i, 9)));
    return o;
}

int orders_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    return page(app, req, resp, &q_orders, INT64_MAX, NULL, order_row, err);
}

int orders_fills(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    return page(app, req, resp, &q_fills, INT64_MAX, NULL, fill_row, err);
}

int orders_positions(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct bt_err *err)
{
    char w[24];

    snprintf(w, sizeof(w), "%" PRId64, req->who.world_id);
    return page(app, req, resp, &q_positions, 0, w, position_row, err);
}
