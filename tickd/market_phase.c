/*
 * market_phase.c - the market phase and the intents market.trade and
 * market.cancel (see market_phase.h; the model is tickd/market.h).
 *
 * The phase owns one struct market_state per world.  The intents phase
 * applies market intents in id order by parsing them (a body the rule table
 * refuses is rejected there) and queueing them here; the market's own rules
 * (instrument, steps, bands, funds against the wallet minus reservations)
 * run inside market_step, whose rejections turn the intent's outcome into
 * "rejected" before the outcomes are stored.  The step runs after the world
 * (fair value, volatility, events) and mining (which moved money): every
 * wallet the market knows is refreshed from the ledger first, so the
 * reservations are re-checked against the money there is.
 *
 * Money: every market transfer pair is one ledger_move between the ledger
 * accounts of market_ledger_account (companies, and the market_* system
 * accounts: makers, fees, insurance fund, clearing).  The market never lets
 * a company wallet go negative and the ledger refuses it anyway; a refusal
 * here is a bug and fails the tick.
 *
 * Persisted (only what changed, see migrations/0010_market.sql): the
 * scalar state and the public list (one row), instruments (their marks and
 * books move every tick), new and changed orders, player fills, positions
 * that changed or closed, accounts first seen.  load() rebuilds the state
 * from those rows in the market's canonical order (the full JSON goes into
 * the tick snapshot only at checkpoints).
 *
 * Alerts: margin_call (warning) and liquidated (critical) on the company's
 * private channel.
 */
#include "market_phase.h"
#include "ledger.h"
#include "market_int.h" /* market_grow */
#include "pgarr.h"
#include "valid.h"
#include "world.h"
#include "world_phase.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKET_BOOK_LEVELS 10 /* per side in GET /market/book */

/* An order row to write: the order as it stands, its status and why. */
struct order_row {
    struct market_order o;
    int64_t limit_price; /* as asked, 0 = market order */
    const char *status, *reason;
};

struct mkphase {
    struct market_state st;
    struct market_out out;
    struct market_env env; /* of the last step */
    /* queued by the intent kinds, consumed by the step */
    struct market_intent *pend;
    int npend, cap_pend;
    /* the intents of the last step (new orders are written from them) */
    struct market_intent *placed;
    int nplaced, cap_placed;
    bool stepped;
    char *list; /* the public list of the last step (malloc) */
    /* what the database holds (for the diff of persist) */
    struct market_instr *s_ins;
    struct market_order *s_ord;
    struct market_pos *s_pos;
    int64_t *s_acc;
    int s_nins, s_nord, s_npos, s_nacc;
};

static const char *const status_names[] = {"live", "filled", "cancelled", "expired"};

static const struct {
    int64_t account;
    int sys;
} house[] = {
    {MARKET_ACCT_MM, LEDGER_MARKET_MM},
    {MARKET_ACCT_FEES, LEDGER_MARKET_FEES},
    {MARKET_ACCT_INSURANCE, LEDGER_MARKET_INSURANCE},
    {MARKET_ACCT_CLEARING, LEDGER_MARKET_CLEARING},
};

static const char *const xfer_kinds[] = {
    [MARKET_X_TRADE] = "market.trade",           [MARKET_X_FEE] = "market.fee",
    [MARKET_X_MARGIN] = "market.margin",         [MARKET_X_PNL] = "market.pnl",
    [MARKET_X_FUNDING] = "market.funding",       [MARKET_X_PREMIUM] = "market.premium",
    [MARKET_X_COLLATERAL] = "market.collateral", [MARKET_X_SETTLEMENT] = "market.settlement",
    [MARKET_X_INSURANCE] = "market.insurance",   [MARKET_X_DUST] = "market.dust",
};

void market_ledger_account(int64_t account, int *sys, int64_t *company)
{
    *sys = LEDGER_COMPANY;
    *company = account;
    for (size_t i = 0; i < BT_ARRAY_LEN(house); i++)
        if (house[i].account == account) {
            *sys = house[i].sys;
            *company = 0;
        }
}

static uint64_t isqrt(uint64_t v)
{
    uint64_t r = 0, bit = (uint64_t)1 << 62;

    while (bit > v)
        bit >>= 2;
    while (bit) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

void market_env_of(const struct world_model *wm, int64_t tick, uint64_t seed,
                   struct market_env *env)
{
    int64_t sev = 0;

    memset(env, 0, sizeof(*env));
    env->tick = tick;
    env->game_s = wm->game_time_s;
    env->fair = wm->price_uusd > 0 ? wm->price_uusd : 1;
    /* variance x 1e9 -> volatility x 1e6 */
    env->vol_ppm = (int64_t)isqrt((uint64_t)(wm->price_var_e9 > 0 ? wm->price_var_e9 : 0) * 1000);
    /* Each active event's severity (1..5) widens spreads by 10 %, at most x3. */
    for (int64_t i = 0; i < wm->nevents && i < WORLD_MAX_EVENTS; i++)
        sev += wm->events[i].severity;
    env->stress_ppm = MARKET_PPM + (sev * 100000 < 2 * MARKET_PPM ? sev * 100000 : 2 * MARKET_PPM);
    env->seed = seed;
}

/* ---- life cycle ---- */

static void saved_free(struct mkphase *p)
{
    free(p->s_ins);
    free(p->s_ord);
    free(p->s_pos);
    free(p->s_acc);
    p->s_ins = NULL;
    p->s_ord = NULL;
    p->s_pos = NULL;
    p->s_acc = NULL;
    p->s_nins = p->s_nord = p->s_npos = p->s_nacc = 0;
}

static void *dup_array(const void *v, int n, size_t sz, bool *oom)
{
    void *c = malloc((size_t)(n > 0 ? n : 1) * sz);

    if (!c)
        *oom = true;
    else if (n > 0)
        memcpy(c, v, (size_t)n * sz);
    return c;
}

/* Remembers the state as what the database now holds. */
static int saved_take(struct mkphase *p, struct bt_err *err)
{
    const struct market_state *st = &p->st;
    bool oom = false;

    saved_free(p);
    p->s_ins = dup_array(st->ins, st->n_ins, sizeof(*st->ins), &oom);
    p->s_ord = dup_array(st->ord, st->n_ord, sizeof(*st->ord), &oom);
    p->s_pos = dup_array(st->pos, st->n_pos, sizeof(*st->pos), &oom);
    p->s_acc = malloc(sizeof(*p->s_acc) * (size_t)(st->n_acc + 1));
    if (oom || !p->s_acc) {
        saved_free(p);
        return err_internal(err, "out of memory for the market");
    }
    for (int i = 0; i < st->n_acc; i++)
        p->s_acc[i] = st->acc[i].id;
    p->s_nins = st->n_ins;
    p->s_nord = st->n_ord;
    p->s_npos = st->n_pos;
    p->s_nacc = st->n_acc;
    return BT_OK;
}

static void mkphase_free(void *state)
{
    struct mkphase *p = state;

    if (!p)
        return;
    market_free(&p->st);
    market_out_free(&p->out);
    free(p->pend);
    free(p->placed);
    free(p->list);
    saved_free(p);
    free(p);
}

static struct mkphase *mkphase_new(struct bt_err *err)
{
    struct mkphase *p = calloc(1, sizeof(*p));

    if (!p)
        err_internal(err, "out of memory for the market");
    return p;
}

/* ---- load: the state from its tables, through the snapshot format ---- */

DB_STMT(q_mk_world, "SELECT tick, game_s, fair, next_instr_id, funding_epoch, premium_sum_ppm, "
                    "premium_n, funding_rate_ppm, hour, list_json FROM market_worlds "
                    "WHERE world_id = $1");
DB_STMT(q_mk_ins,
        "SELECT id, kind, name, is_call, strike, expiry_s, open, last_price, mark, "
        "best_bid, best_ask, to_json(hour_open), to_json(hour_vol), volume_total, "
        "open_interest FROM market_instruments WHERE world_id = $1 AND listed ORDER BY id");
DB_STMT(q_mk_ord, "SELECT id, company_id, instr_id, leverage, side, type, tif, reduce_only, "
                  "qty, filled, limit_uusd, tick, expire_s, res_usd, res_btc FROM market_orders "
                  "WHERE world_id = $1 AND status = 'live' ORDER BY id");
DB_STMT(q_mk_pos, "SELECT account, instr_id, leverage, qty, cost::text, margin, collateral, "
                  "funding, called FROM market_positions WHERE world_id = $1 "
                  "ORDER BY account, instr_id");
DB_STMT(q_mk_acc, "SELECT account FROM market_accounts WHERE world_id = $1 ORDER BY account");

#define JI(o, k, v) json_object_object_add((o), (k), json_object_new_int64((int64_t)(v)))

static int64_t wallet(const struct ledger *l, int64_t account, int cur)
{
    const struct ledger_account *a;
    int64_t company;
    int sys;

    market_ledger_account(account, &sys, &company);
    a = ledger_find(l, sys, company, cur);
    return a ? a->balance : 0;
}

static json_object *load_instruments(PGresult *r)
{
    json_object *a = json_object_new_array();

    for (int i = 0; i < PQntuples(r); i++) {
        json_object *o = json_object_new_object();
        JI(o, "id", db_i64(r, i, 0));
        JI(o, "kind", market_kind_of(db_str(r, i, 1)));
        json_object_object_add(o, "name", json_object_new_string(db_str(r, i, 2)));
        JI(o, "call", db_bool(r, i, 3));
        JI(o, "strike", db_i64(r, i, 4));
        JI(o, "expiry_s", db_i64(r, i, 5));
        JI(o, "open", db_bool(r, i, 6));
        JI(o, "last_price", db_i64(r, i, 7));
        JI(o, "mark", db_i64(r, i, 8));
        JI(o, "best_bid", db_i64(r, i, 9));
        JI(o, "best_ask", db_i64(r, i, 10));
        json_object_object_add(o, "hour_open", json_tokener_parse(db_str(r, i, 11)));
        json_object_object_add(o, "hour_vol", json_tokener_parse(db_str(r, i, 12)));
        JI(o, "volume_total", db_i64(r, i, 13));
        JI(o, "open_interest", db_i64(r, i, 14));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *load_orders(PGresult *r)
{
    json_object *a = json_object_new_array();

    for (int i = 0; i < PQntuples(r); i++) {
        json_object *o = json_object_new_object();
        JI(o, "id", db_i64(r, i, 0));
        JI(o, "account", db_i64(r, i, 1));
        JI(o, "instr", db_i64(r, i, 2));
        JI(o, "leverage", db_i64(r, i, 3));
        JI(o, "side", market_side_of(db_str(r, i, 4)));
        JI(o, "type", market_type_of(db_str(r, i, 5)));
        JI(o, "tif", market_tif_of(db_str(r, i, 6)));
        JI(o, "status", MARKET_LIVE);
        JI(o, "reduce_only", db_bool(r, i, 7));
        JI(o, "qty", db_i64(r, i, 8));
        JI(o, "filled", db_i64(r, i, 9));
        JI(o, "limit", db_i64(r, i, 10));
        JI(o, "tick", db_i64(r, i, 11));
        JI(o, "expire_s", db_i64(r, i, 12));
        JI(o, "res_usd", db_i64(r, i, 13));
        JI(o, "res_btc", db_i64(r, i, 14));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *load_positions(PGresult *r)
{
    json_object *a = json_object_new_array();

    for (int i = 0; i < PQntuples(r); i++) {
        json_object *o = json_object_new_object();
        JI(o, "account", db_i64(r, i, 0));
        JI(o, "instr", db_i64(r, i, 1));
        JI(o, "leverage", db_i64(r, i, 2));
        JI(o, "qty", db_i64(r, i, 3));
        json_object_object_add(o, "cost", json_object_new_string(db_str(r, i, 4)));
        JI(o, "margin", db_i64(r, i, 5));
        JI(o, "collateral", db_i64(r, i, 6));
        JI(o, "funding", db_i64(r, i, 7));
        JI(o, "called", db_bool(r, i, 8));
        json_object_array_add(a, o);
    }
    return a;
}

/* Wallet views from the ledger (as after the last committed tick, when
 * the market was the last to move money) and reservations from the live
 * orders. */
static json_object *load_accounts(PGresult *r, PGresult *ord, const struct ledger *l)
{
    json_object *a = json_object_new_array();

    for (int i = 0; i < PQntuples(r); i++) {
        int64_t id = db_i64(r, i, 0), ru = 0, rb = 0;
        json_object *o = json_object_new_object();
        for (int k = 0; k < PQntuples(ord); k++)
            if (db_i64(ord, k, 1) == id) {
                ru += db_i64(ord, k, 13);
                rb += db_i64(ord, k, 14);
            }
        JI(o, "id", id);
        JI(o, "usd", wallet(l, id, LEDGER_USD));
        JI(o, "btc", wallet(l, id, LEDGER_BTC));
        JI(o, "res_usd", ru);
        JI(o, "res_btc", rb);
        json_object_array_add(a, o);
    }
    return a;
}

static int load(struct tick_ctx *ctx, void **state, struct bt_err *err)
{
    static const char *const scalars[] = {"tick",          "game_s",           "fair",
                                          "next_instr_id", "funding_epoch",    "premium_sum_ppm",
                                          "premium_n",     "funding_rate_ppm", "hour"};
    const struct ledger *l = tick_state(ctx, &tick_phase_ledger);
    struct market_params prm;
    struct mkphase *p;
    PGresult *w, *ins, *ord, *pos, *acc;
    json_object *j;
    char wid[24];
    const char *q[1] = {wid};
    int rc;

    if (!(p = mkphase_new(err)))
        return BT_ERR;
    *state = p;
    market_params_default(&prm);
    snprintf(wid, sizeof(wid), "%" PRId64, ctx->world->id);
    if (!(w = db_exec(ctx->db, ctx->arena, &q_mk_world, 1, q, err)))
        return BT_ERR;
    if (PQntuples(w) == 0) { /* the market never ran in this world */
        market_init(&p->st, &prm);
        return saved_take(p, err);
    }
    if (!(ins = db_exec(ctx->db, ctx->arena, &q_mk_ins, 1, q, err)) ||
        !(ord = db_exec(ctx->db, ctx->arena, &q_mk_ord, 1, q, err)) ||
        !(pos = db_exec(ctx->db, ctx->arena, &q_mk_pos, 1, q, err)) ||
        !(acc = db_exec(ctx->db, ctx->arena, &q_mk_acc, 1, q, err)))
        return BT_ERR;
    /* The parameters' snapshot form comes from a fresh market. */
    market_init(&p->st, &prm);
    j = market_to_json(&p->st);
    market_free(&p->st);
    for (int k = 0; k < (int)BT_ARRAY_LEN(scalars); k++)
        JI(j, scalars[k], db_i64(w, 0, k));
    json_object_object_add(j, "instruments", load_instruments(ins));
    json_object_object_add(j, "orders", load_orders(ord));
    json_object_object_add(j, "positions", load_positions(pos));
    json_object_object_add(j, "accounts", load_accounts(acc, ord, l));
    rc = market_from_json(&p->st, j, err);
    json_object_put(j);
    if (rc != BT_OK)
        return BT_ERR;
    if (!(p->list = strdup(db_str(w, 0, 9))))
        return err_internal(err, "out of memory for the market");
    return saved_take(p, err);
}

/* ---- step ---- */

static void dec(int64_t v, int scale, char *buf, size_t n)
{
    valid_format_decimal(v, scale, buf, n);
}

static json_object *jdec(int64_t v, int scale)
{
    char b[40];

    if (v == 0)
        return NULL;
    dec(v, scale, b, sizeof(b));
    return json_object_new_string(b);
}

static json_object *levels_json(const struct market_level *lv, int n)
{
    json_object *a = json_object_new_array_ext(n);

    for (int i = 0; i < n; i++) {
        json_object *l = json_object_new_array_ext(2);
        json_object_array_add(l, jdec(lv[i].price, 6));
        json_object_array_add(l, jdec(lv[i].qty, 8));
        json_object_array_add(a, l);
    }
    return a;
}

/* The aggregated depth of an instrument as stored for GET /market/book. */
static char *book_text(const struct mkphase *p, const struct market_instr *ins)
{
    struct market_level bids[MARKET_BOOK_LEVELS], asks[MARKET_BOOK_LEVELS];
    int nb = 0, na = 0;
    json_object *o = json_object_new_object();
    char *s;

    market_depth(&p->st, &p->env, ins, bids, &nb, asks, &na, MARKET_BOOK_LEVELS);
    json_object_object_add(o, "bids", levels_json(bids, nb));
    json_object_object_add(o, "asks", levels_json(asks, na));
    s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static json_object *instr_json(const struct mkphase *p, const struct market_instr *ins)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "instrument", json_object_new_string(ins->name));
    json_object_object_add(o, "kind", json_object_new_string(market_kind_name(ins->kind)));
    json_object_object_add(o, "open", json_object_new_boolean(ins->open));
    json_object_object_add(o, "last", jdec(ins->last_price, 6));
    json_object_object_add(o, "mark", jdec(ins->mark, 6));
    json_object_object_add(o, "best_bid", jdec(ins->best_bid, 6));
    json_object_object_add(o, "best_ask", jdec(ins->best_ask, 6));
    {
        char b[40];
        int64_t open = market_open_24h(ins, p->st.hour);
        json_object_object_add(o, "open_24h", jdec(open, 6));
        json_object_object_add(
            o, "change_ppm",
            open > 0 && ins->last_price > 0
                ? json_object_new_int64((ins->last_price - open) * MARKET_PPM / open)
                : NULL);
        dec(market_volume_24h(ins), 8, b, sizeof(b));
        json_object_object_add(o, "volume", json_object_new_string(b));
        dec(ins->open_interest, 8, b, sizeof(b));
        json_object_object_add(o, "open_interest", json_object_new_string(b));
    }
    if (ins->kind == MARKET_PERP) {
        json_object_object_add(o, "funding_rate_ppm",
                               json_object_new_int64(p->st.funding_rate_ppm));
        json_object_object_add(
            o, "next_funding_s",
            json_object_new_int64((p->env.game_s / p->st.p.funding_interval_s + 1) *
                                  p->st.p.funding_interval_s));
    }
    if (ins->kind == MARKET_OPTION) {
        struct market_quote q;
        json_object *g = json_object_new_object();
        market_option_quote(&p->st.p, ins, &p->env, ins->last_price, &q);
        json_object_object_add(o, "option_type",
                               json_object_new_string(ins->call ? "call" : "put"));
        json_object_object_add(o, "strike", jdec(ins->strike, 6));
        json_object_object_add(o, "expiry_s", json_object_new_int64(ins->expiry_s));
        JI(g, "theo_usd_micro", q.theo);
        JI(g, "delta_ppm", q.delta_ppm);
        JI(g, "gamma_ppm", q.gamma_ppm);
        JI(g, "vega_usd_micro", q.vega);
        JI(g, "theta_usd_micro", q.theta);
        JI(g, "iv_ppm", q.iv_ppm);
        JI(g, "model_vol_ppm", p->env.vol_ppm);
        json_object_object_add(o, "greeks", g);
    }
    return o;
}

/* The public document of GET /market/list for this tick. */
static int build_list(struct mkphase *p, int64_t world_id, struct bt_err *err)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();

    JI(o, "world_id", world_id);
    JI(o, "tick", p->env.tick);
    JI(o, "game_s", p->env.game_s);
    json_object_object_add(o, "fair", jdec(p->env.fair, 6));
    for (int i = 0; i < p->st.n_ins; i++)
        json_object_array_add(a, instr_json(p, &p->st.ins[i]));
    json_object_object_add(o, "instruments", a);
    free(p->list);
    p->list = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return p->list ? BT_OK : err_internal(err, "out of memory for the market list");
}

/* Every wallet the market knows (and its own accounts), from the ledger. */
static void refresh_wallets(struct mkphase *p, const struct ledger *l)
{
    struct market_state *st = &p->st;

    for (size_t i = 0; i < BT_ARRAY_LEN(house); i++)
        market_wallet_set(st, house[i].account, wallet(l, house[i].account, LEDGER_USD),
                          wallet(l, house[i].account, LEDGER_BTC));
    for (int i = 0; i < p->npend; i++)
        market_wallet_set(st, p->pend[i].account, wallet(l, p->pend[i].account, LEDGER_USD),
                          wallet(l, p->pend[i].account, LEDGER_BTC));
    for (int i = 0; i < st->n_acc; i++)
        if (st->acc[i].id > 0)
            market_wallet_set(st, st->acc[i].id, wallet(l, st->acc[i].id, LEDGER_USD),
                              wallet(l, st->acc[i].id, LEDGER_BTC));
}

static struct tick_intent *intent_by_id(struct tick_ctx *ctx, int64_t id)
{
    int lo = 0, hi = ctx->nintents;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ctx->intents[mid].id == id)
            return &ctx->intents[mid];
        if (ctx->intents[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = 0; i < ctx->nintents; i++) /* not in id order after all */
        if (ctx->intents[i].id == id)
            return &ctx->intents[i];
    return NULL;
}

static void record_rejections(struct tick_ctx *ctx, const struct market_out *out)
{
    for (int i = 0; i < out->n_results; i++) {
        const struct market_result *r = &out->results[i];
        struct tick_intent *in = intent_by_id(ctx, r->intent_id);
        if (!in)
            continue;
        in->status = INTENT_REJECTED;
        snprintf(in->reason, sizeof(in->reason), "%.40s (%.30s): %.80s", r->field, r->code,
                 r->message);
    }
}

static int post_transfers(struct ledger *l, const struct market_out *out, struct bt_err *err)
{
    char why[TICK_REASON_LEN];

    BT_ASSERT(out->n_transfers % 2 == 0);
    for (int i = 0; i < out->n_transfers; i += 2) {
        const struct market_transfer *from = &out->transfers[i], *to = &out->transfers[i + 1];
        int fs, ts;
        int64_t fc, tc;
        BT_ASSERT(from->amount == -to->amount && from->currency == to->currency);
        market_ledger_account(from->account, &fs, &fc);
        market_ledger_account(to->account, &ts, &tc);
        if (ledger_move(l, fs, fc, ts, tc, from->currency == MARKET_USD ? LEDGER_USD : LEDGER_BTC,
                        to->amount, xfer_kinds[to->kind], 0, why, sizeof(why)) != BT_OK)
            return err_internal(err, "market transfer %" PRId64 " -> %" PRId64 " (%s): %s",
                                from->account, to->account, xfer_kinds[to->kind], why);
    }
    return BT_OK;
}

static void raise_alerts(struct tick_ctx *ctx, const struct mkphase *p)
{
    for (int i = 0; i < p->out.n_alerts; i++) {
        const struct market_alert *a = &p->out.alerts[i];
        const struct market_instr *ins = market_instr_get(&p->st, a->instr);
        bool liq = a->kind == MARKET_ALERT_LIQUIDATED;
        json_object *d = json_object_new_object();
        char b[40];

        if (a->account <= 0)
            continue;
        json_object_object_add(d, "instrument",
                               json_object_new_string(ins ? ins->name : "BTC-PERP"));
        dec(a->qty, 8, b, sizeof(b));
        json_object_object_add(d, "qty", json_object_new_string(b));
        JI(d, "equity_usd_micro", a->equity);
        JI(d, "maintenance_usd_micro", a->maintenance);
        dec(a->price, 6, b, sizeof(b));
        json_object_object_add(d, liq ? "bankruptcy_price" : "mark_price",
                               json_object_new_string(b));
        tick_alert(ctx, a->account, liq ? "liquidated" : "margin_call",
                   liq ? "critical" : "warning", d);
        tick_touch(ctx, a->account);
    }
}

static void touch_all(struct tick_ctx *ctx, const struct mkphase *p)
{
    for (int i = 0; i < p->nplaced; i++)
        tick_touch(ctx, p->placed[i].account);
    for (int i = 0; i < p->out.n_fills; i++)
        if (p->out.fills[i].account > 0)
            tick_touch(ctx, p->out.fills[i].account);
    for (int i = 0; i < p->out.n_done; i++)
        if (p->out.done[i].account > 0)
            tick_touch(ctx, p->out.done[i].account);
}

static int step(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct mkphase *p = state;
    struct ledger *l = tick_state(ctx, &tick_phase_ledger);

    market_env_of(world_of(ctx), ctx->tick, (uint64_t)ctx->world->seed, &p->env);
    refresh_wallets(p, l);
    if (market_step(&p->st, &p->env, p->pend, p->npend, &p->out, err) != BT_OK)
        return BT_ERR;
    /* The intents move to `placed` (persist writes their orders). */
    if (market_grow((void **)&p->placed, &p->cap_placed, p->npend, sizeof(*p->placed)) != BT_OK)
        return err_internal(err, "out of memory for market intents");
    if (p->npend)
        memcpy(p->placed, p->pend, sizeof(*p->pend) * (size_t)p->npend);
    p->nplaced = p->npend;
    p->npend = 0;
    p->stepped = true;
    record_rejections(ctx, &p->out);
    if (post_transfers(l, &p->out, err) != BT_OK)
        return BT_ERR;
    raise_alerts(ctx, p);
    touch_all(ctx, p);
    return build_list(p, ctx->world->id, err);
}

/* ---- persist ---- */

DB_STMT(q_mk_world_up,
        "INSERT INTO market_worlds (world_id, tick, game_s, fair, vol_ppm, next_instr_id, "
        "funding_epoch, premium_sum_ppm, premium_n, funding_rate_ppm, hour, list_json) VALUES "
        "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (world_id) DO UPDATE SET "
        "tick = EXCLUDED.tick, game_s = EXCLUDED.game_s, fair = EXCLUDED.fair, vol_ppm = "
        "EXCLUDED.vol_ppm, next_instr_id = EXCLUDED.next_instr_id, funding_epoch = "
        "EXCLUDED.funding_epoch, premium_sum_ppm = EXCLUDED.premium_sum_ppm, premium_n = "
        "EXCLUDED.premium_n, funding_rate_ppm = EXCLUDED.funding_rate_ppm, hour = EXCLUDED.hour, "
        "list_json = EXCLUDED.list_json");
DB_STMT(q_mk_ins_up,
        "INSERT INTO market_instruments (world_id, id, name, kind, is_call, strike, expiry_s, "
        "open, last_price, mark, best_bid, best_ask, hour_open, hour_vol, volume_total, "
        "open_interest, book) SELECT $1, u.id, u.name, u.kind, u.c, u.k, u.e, u.o, u.l, u.m, "
        "u.b, u.a, u.ho::bigint[], u.hv::bigint[], u.vt, u.oi, u.bk FROM unnest($2::int[], "
        "$3::text[], $4::text[], $5::bool[], $6::bigint[], $7::bigint[], $8::bool[], "
        "$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], "
        "$15::bigint[], $16::bigint[], $17::text[]) AS u(id, name, kind, c, k, e, o, l, m, b, a, "
        "ho, hv, vt, oi, bk) ON CONFLICT (world_id, id) DO UPDATE SET open = EXCLUDED.open, "
        "listed = true, last_price = EXCLUDED.last_price, mark = EXCLUDED.mark, best_bid = "
        "EXCLUDED.best_bid, best_ask = EXCLUDED.best_ask, hour_open = EXCLUDED.hour_open, "
        "hour_vol = EXCLUDED.hour_vol, volume_total = EXCLUDED.volume_total, open_interest = "
        "EXCLUDED.open_interest, book = EXCLUDED.book");
DB_STMT(q_mk_ins_gone, "UPDATE market_instruments SET listed = false, open = false "
                       "WHERE world_id = $1 AND id = ANY($2::int[])");
DB_STMT(q_mk_acc_new, "INSERT INTO market_accounts (world_id, account) SELECT $1, a FROM "
                      "unnest($2::bigint[]) a ON CONFLICT DO NOTHING");
DB_STMT(q_mk_ord_up,
        "INSERT INTO market_orders (world_id, updated_tick, id, company_id, instr_id, "
        "instrument, side, type, tif, qty, filled, limit_price, limit_uusd, leverage, "
        "reduce_only, tick, expire_s, res_usd, res_btc, status, reason) SELECT $1, $2, * FROM "
        "unnest($3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::text[], $8::text[], "
        "$9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::int[], "
        "$15::bool[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::text[], "
        "$21::text[]) ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty, filled = "
        "EXCLUDED.filled, res_usd = EXCLUDED.res_usd, res_btc = EXCLUDED.res_btc, status = "
        "EXCLUDED.status, reason = EXCLUDED.reason, updated_tick = EXCLUDED.updated_tick");
DB_STMT(q_mk_fills,
        "INSERT INTO market_fills (world_id, tick, order_id, company_id, instr_id, instrument, "
        "side, qty, price, fee, realized_pnl) SELECT $1, $2, * FROM unnest($3::bigint[], "
        "$4::bigint[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], "
        "$10::bigint[], $11::bigint[])");
DB_STMT(q_mk_pos_up,
        "INSERT INTO market_positions (world_id, updated_tick, account, instr_id, leverage, qty, "
        "cost, margin, collateral, funding, called) SELECT $1, $2, * FROM unnest($3::bigint[], "
        "$4::int[], $5::int[], $6::bigint[], $7::numeric[], $8::bigint[], $9::bigint[], "
        "$10::bigint[], $11::bool[]) ON CONFLICT (world_id, account, instr_id) DO UPDATE SET "
        "leverage = EXCLUDED.leverage, qty = EXCLUDED.qty, cost = EXCLUDED.cost, margin = "
        "EXCLUDED.margin, collateral = EXCLUDED.collateral, funding = EXCLUDED.funding, called = "
        "EXCLUDED.called, updated_tick = EXCLUDED.updated_tick");
DB_STMT(q_mk_pos_del, "DELETE FROM market_positions p USING unnest($2::bigint[], $3::int[]) "
                      "AS d(a, i) WHERE p.world_id = $1 AND p.account = d.a AND p.instr_id = d.i");

static void pg_bool(struct pgarr *a, bool v)
{
    pgarr_str(a, v ? "t" : "f");
}

static int persist_world(struct tick_ctx *ctx, struct mkphase *p, const char *w, struct bt_err *err)
{
    const struct market_state *st = &p->st;
    int64_t v[10] = {st->tick,
                     st->game_s,
                     st->fair,
                     p->env.vol_ppm,
                     st->next_instr_id,
                     st->funding_epoch,
                     st->premium_sum_ppm,
                     st->premium_n,
                     st->funding_rate_ppm,
                     st->hour};
    char b[10][24];
    const char *q[12];

    q[0] = w;
    for (int k = 0; k < 10; k++) {
        snprintf(b[k], sizeof(b[k]), "%" PRId64, v[k]);
        q[k + 1] = b[k];
    }
    q[11] = p->list;
    return db_exec(ctx->db, ctx->arena, &q_mk_world_up, 12, q, err) ? BT_OK : BT_ERR;
}

static int persist_instruments(struct tick_ctx *ctx, struct mkphase *p, const char *w,
                               struct bt_err *err)
{
    const struct market_state *st = &p->st;
    struct pgarr a[16], gone;
    const char *pre[1] = {w};

    pgarr_init_n(a, 16);
    for (int i = 0; i < st->n_ins; i++) {
        const struct market_instr *s = &st->ins[i];
        char *book = book_text(p, s);
        if (!book) {
            pgarr_free_n(a, 16);
            return err_internal(err, "out of memory for the market book");
        }
        pgarr_i64(&a[0], s->id);
        pgarr_str(&a[1], s->name);
        pgarr_str(&a[2], market_kind_name(s->kind));
        pg_bool(&a[3], s->call);
        pgarr_i64(&a[4], s->strike);
        pgarr_i64(&a[5], s->expiry_s);
        pg_bool(&a[6], s->open);
        pgarr_i64(&a[7], s->last_price);
        pgarr_i64(&a[8], s->mark);
        pgarr_i64(&a[9], s->best_bid);
        pgarr_i64(&a[10], s->best_ask);
        pgarr_i64s(&a[11], s->hour_open, MARKET_HOURS);
        pgarr_i64s(&a[12], s->hour_vol, MARKET_HOURS);
        pgarr_i64(&a[13], s->volume_total);
        pgarr_i64(&a[14], s->open_interest);
        pgarr_str(&a[15], book);
        free(book);
    }
    if (pgarr_exec(ctx->db, ctx->arena, &q_mk_ins_up, pre, 1, a, 16, err) != BT_OK)
        return BT_ERR;
    pgarr_init(&gone);
    for (int i = 0; i < p->s_nins; i++)
        if (!market_instr_get(st, p->s_ins[i].id))
            pgarr_i64(&gone, p->s_ins[i].id);
    return pgarr_exec(ctx->db, ctx->arena, &q_mk_ins_gone, pre, 1, &gone, 1, err);
}

static int persist_accounts(struct tick_ctx *ctx, struct mkphase *p, const char *w,
                            struct bt_err *err)
{
    struct pgarr a;
    const char *pre[1] = {w};
    int k = 0;

    pgarr_init(&a);
    for (int i = 0; i < p->st.n_acc; i++) { /* both sorted by id */
        int64_t id = p->st.acc[i].id;
        while (k < p->s_nacc && p->s_acc[k] < id)
            k++;
        if (k < p->s_nacc && p->s_acc[k] == id)
            continue;
        pgarr_i64(&a, id);
    }
    return pgarr_exec(ctx->db, ctx->arena, &q_mk_acc_new, pre, 1, &a, 1, err);
}

static const struct market_order *find_order(const struct market_order *v, int n, int64_t id)
{
    int lo = 0, hi = n;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid].id == id)
            return &v[mid];
        if (v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const struct market_intent *find_placed(const struct mkphase *p, int64_t id)
{
    for (int i = 0; i < p->nplaced; i++)
        if (p->placed[i].id == id && p->placed[i].kind == MARKET_INTENT_TRADE)
            return &p->placed[i];
    return NULL;
}

static bool rejected(const struct mkphase *p, int64_t id)
{
    for (int i = 0; i < p->out.n_results; i++)
        if (p->out.results[i].intent_id == id)
            return true;
    return false;
}

static void order_push(struct pgarr *a, const struct market_state *st, const struct order_row *r)
{
    const struct market_order *o = &r->o;
    const struct market_instr *ins = market_instr_get(st, o->instr);

    pgarr_i64(&a[0], o->id);
    pgarr_i64(&a[1], o->account);
    pgarr_i64(&a[2], o->instr);
    pgarr_str(&a[3], ins ? ins->name : "?");
    pgarr_str(&a[4], market_side_name((enum market_side)o->side));
    pgarr_str(&a[5], market_type_name((enum market_otype)o->type));
    pgarr_str(&a[6], market_tif_name((enum market_tif)o->tif));
    pgarr_i64(&a[7], o->qty);
    pgarr_i64(&a[8], o->filled);
    if (r->limit_price > 0)
        pgarr_i64(&a[9], r->limit_price);
    else
        pgarr_null(&a[9]);
    pgarr_i64(&a[10], o->limit);
    pgarr_i64(&a[11], o->leverage);
    pg_bool(&a[12], o->reduce_only);
    pgarr_i64(&a[13], o->tick);
    pgarr_i64(&a[14], o->expire_s);
    pgarr_i64(&a[15], o->res_usd);
    pgarr_i64(&a[16], o->res_btc);
    pgarr_str(&a[17], r->status);
    pgarr_str(&a[18], r->reason);
}

/* A new order that left the book in the tick it arrived: its row from the
 * intent (the instrument was valid, or it would have been rejected). */
static struct order_row new_done_row(const struct mkphase *p, const struct market_intent *in,
                                     const struct market_order_done *d)
{
    const struct market_instr *ins = market_instr_find(&p->st, in->req.instrument);
    struct order_row r = {{0}, in->req.limit_price, status_names[d->status], d->reason};

    r.o = (struct market_order){.id = in->id,
                                .account = in->account,
                                .instr = ins ? ins->id : 0,
                                .leverage = ins && ins->kind == MARKET_PERP
                                                ? (in->req.leverage > 0 ? in->req.leverage : 1)
                                                : 0,
                                .side = (uint8_t)in->req.side,
                                .type = (uint8_t)in->req.type,
                                .tif = (uint8_t)in->req.tif,
                                .reduce_only = in->req.reduce_only,
                                .qty = in->req.qty,
                                .filled = d->filled,
                                .limit = in->req.limit_price,
                                .tick = p->env.tick,
                                .expire_s = p->env.game_s};
    return r;
}

static bool order_changed(const struct market_order *a, const struct market_order *b)
{
    return a->qty != b->qty || a->filled != b->filled || a->res_usd != b->res_usd ||
           a->res_btc != b->res_btc;
}

static int persist_orders(struct tick_ctx *ctx, struct mkphase *p, const char *pre[2],
                          struct bt_err *err)
{
    const struct market_state *st = &p->st;
    struct pgarr a[19];

    pgarr_init_n(a, 19);
    for (int i = 0; i < st->n_ord; i++) { /* live: new or changed */
        const struct market_order *o = &st->ord[i], *was = find_order(p->s_ord, p->s_nord, o->id);
        const struct market_intent *in = was ? NULL : find_placed(p, o->id);
        struct order_row r = {*o, in ? in->req.limit_price : 0, "live", NULL};
        if (was && !order_changed(o, was))
            continue;
        if (was)
            r.limit_price = was->type == MARKET_ORDER_LIMIT ? was->limit : 0;
        order_push(a, st, &r);
    }
    for (int i = 0; i < p->out.n_done; i++) { /* finished this tick */
        const struct market_order_done *d = &p->out.done[i];
        const struct market_order *was = find_order(p->s_ord, p->s_nord, d->order_id);
        const struct market_intent *in;
        struct order_row r;
        if (was) {
            r = (struct order_row){*was, was->type == MARKET_ORDER_LIMIT ? was->limit : 0,
                                   status_names[d->status], d->reason};
            r.o.filled = d->filled;
            r.o.res_usd = r.o.res_btc = 0;
        } else if ((in = find_placed(p, d->order_id)) && !rejected(p, in->id)) {
            r = new_done_row(p, in, d);
        } else {
            continue;
        }
        order_push(a, st, &r);
    }
    return pgarr_exec(ctx->db, ctx->arena, &q_mk_ord_up, pre, 2, a, 19, err);
}

static int persist_fills(struct tick_ctx *ctx, struct mkphase *p, const char *pre[2],
                         struct bt_err *err)
{
    struct pgarr a[9];

    pgarr_init_n(a, 9);
    for (int i = 0; i < p->out.n_fills; i++) {
        const struct market_fill *f = &p->out.fills[i];
        const struct market_instr *ins = market_instr_get(&p->st, f->instr);
        if (f->account <= 0)
            continue;
        if (f->order_id > 0)
            pgarr_i64(&a[0], f->order_id);
        else
            pgarr_null(&a[0]);
        pgarr_i64(&a[1], f->account);
        pgarr_i64(&a[2], f->instr);
        pgarr_str(&a[3], ins ? ins->name : "?");
        pgarr_str(&a[4], market_side_name((enum market_side)f->side));
        pgarr_i64(&a[5], f->qty);
        pgarr_i64(&a[6], f->price);
        pgarr_i64(&a[7], f->fee);
        pgarr_i64(&a[8], f->realized_pnl);
    }
    return pgarr_exec(ctx->db, ctx->arena, &q_mk_fills, pre, 2, a, 9, err);
}

static int cmp_pos_key(const struct market_pos *x, const struct market_pos *y)
{
    if (x->account != y->account)
        return x->account < y->account ? -1 : 1;
    return x->instr < y->instr ? -1 : x->instr > y->instr;
}

static bool pos_changed(const struct market_pos *a, const struct market_pos *b)
{
    return a->leverage != b->leverage || a->qty != b->qty || a->cost != b->cost ||
           a->margin != b->margin || a->collateral != b->collateral || a->funding != b->funding ||
           a->called != b->called;
}

/* Positions: a merge of the state and what the database holds (both in
 * the canonical order) into upserts and deletes. */
static int persist_positions(struct tick_ctx *ctx, struct mkphase *p, const char *pre[2],
                             struct bt_err *err)
{
    const struct market_state *st = &p->st;
    struct pgarr a[9], d[2];
    int i = 0, k = 0;

    pgarr_init_n(a, 9);
    pgarr_init_n(d, 2);
    while (i < st->n_pos || k < p->s_npos) {
        int c = i >= st->n_pos ? 1 : k >= p->s_npos ? -1 : cmp_pos_key(&st->pos[i], &p->s_pos[k]);
        if (c > 0) { /* closed */
            pgarr_i64(&d[0], p->s_pos[k].account);
            pgarr_i64(&d[1], p->s_pos[k].instr);
            k++;
            continue;
        }
        if (c == 0 && !pos_changed(&st->pos[i], &p->s_pos[k])) {
            i++;
            k++;
            continue;
        }
        {
            const struct market_pos *s = &st->pos[i];
            char cb[MARKET_I128_LEN];
            pgarr_i64(&a[0], s->account);
            pgarr_i64(&a[1], s->instr);
            pgarr_i64(&a[2], s->leverage);
            pgarr_i64(&a[3], s->qty);
            pgarr_str(&a[4], market_i128_str(s->cost, cb));
            pgarr_i64(&a[5], s->margin);
            pgarr_i64(&a[6], s->collateral);
            pgarr_i64(&a[7], s->funding);
            pg_bool(&a[8], s->called);
        }
        i++;
        k += c == 0;
    }
    if (pgarr_exec(ctx->db, ctx->arena, &q_mk_pos_up, pre, 2, a, 9, err) != BT_OK) {
        pgarr_free_n(d, 2);
        return BT_ERR;
    }
    return pgarr_exec(ctx->db, ctx->arena, &q_mk_pos_del, pre, 1, d, 2, err);
}

static int persist(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct mkphase *p = state;
    char w[24], t[24];
    const char *pre[2] = {w, t};

    if (!p->stepped)
        return BT_OK;
    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    if (persist_world(ctx, p, w, err) != BT_OK || persist_instruments(ctx, p, w, err) != BT_OK ||
        persist_accounts(ctx, p, w, err) != BT_OK || persist_orders(ctx, p, pre, err) != BT_OK ||
        persist_fills(ctx, p, pre, err) != BT_OK || persist_positions(ctx, p, pre, err) != BT_OK)
        return BT_ERR;
    return BT_OK;
}

static void commit(struct tick_ctx *ctx, void *state)
{
    struct mkphase *p = state;
    struct bt_err err;

    BT_UNUSED(ctx);
    err_clear(&err);
    /* Without the copy the next persist rewrites every row it sees, which
     * is still correct: memory exhaustion here is not fatal. */
    (void)saved_take(p, &err);
    p->nplaced = 0;
}

/* ---- hash, payloads, snapshots ---- */

static void hash(const void *state, crypto_generichash_state *h)
{
    market_hash(&((const struct mkphase *)state)->st, h);
}

static void payload(const void *state, struct json_object *pl)
{
    const struct mkphase *p = state;
    const struct market_instr *spot = market_instr_get(&p->st, MARKET_SPOT_ID),
                              *perp = market_instr_get(&p->st, MARKET_PERP_ID);
    json_object *o;

    if (!p->stepped)
        return;
    o = json_object_new_object();
    json_object_object_add(o, "spot_last", spot ? jdec(spot->last_price, 6) : NULL);
    json_object_object_add(o, "perp_last", perp ? jdec(perp->last_price, 6) : NULL);
    json_object_object_add(o, "funding_rate_ppm", json_object_new_int64(p->st.funding_rate_ppm));
    json_object_object_add(pl, "market", o);
}

/* The company's part of player:update: this tick's fills and finished
 * orders, and what its live orders reserve. */
static void company(const void *state, int64_t cid, struct json_object *pl)
{
    const struct mkphase *p = state;
    const struct market_acct *a = market_acct_get(&p->st, cid);
    json_object *o, *fills, *done;
    char b[40];

    if (!p->stepped || !a)
        return;
    o = json_object_new_object();
    fills = json_object_new_array();
    done = json_object_new_array();
    for (int i = 0; i < p->out.n_fills; i++) {
        const struct market_fill *f = &p->out.fills[i];
        const struct market_instr *ins = market_instr_get(&p->st, f->instr);
        json_object *x;
        if (f->account != cid)
            continue;
        x = json_object_new_object();
        JI(x, "order_id", f->order_id);
        json_object_object_add(x, "instrument", json_object_new_string(ins ? ins->name : "?"));
        json_object_object_add(x, "side",
                               json_object_new_string(market_side_name((enum market_side)f->side)));
        dec(f->qty, 8, b, sizeof(b));
        json_object_object_add(x, "qty", json_object_new_string(b));
        dec(f->price, 6, b, sizeof(b));
        json_object_object_add(x, "price", json_object_new_string(b));
        json_object_array_add(fills, x);
    }
    for (int i = 0; i < p->out.n_done; i++) {
        const struct market_order_done *d = &p->out.done[i];
        json_object *x;
        if (d->account != cid)
            continue;
        x = json_object_new_object();
        JI(x, "order_id", d->order_id);
        json_object_object_add(x, "status", json_object_new_string(status_names[d->status]));
        json_object_object_add(x, "reason", json_object_new_string(d->reason));
        json_object_array_add(done, x);
    }
    json_object_object_add(o, "fills", fills);
    json_object_object_add(o, "orders_done", done);
    JI(o, "reserved_usd_micro", a->res_usd);
    JI(o, "reserved_sat", a->res_btc);
    json_object_object_add(pl, "market", o);
}

static struct json_object *to_json(const void *state)
{
    return market_to_json(&((const struct mkphase *)state)->st);
}

static int from_json(struct tick_ctx *ctx, void **state, struct json_object *j, struct bt_err *err)
{
    struct mkphase *p;

    BT_UNUSED(ctx);
    if (!(p = mkphase_new(err)))
        return BT_ERR;
    *state = p;
    if (market_from_json(&p->st, j, err) != BT_OK)
        return BT_ERR;
    return saved_take(p, err);
}

const struct tick_phase tick_phase_market = {
    .name = "market",
    .load = load,
    .step = step,
    .persist = persist,
    .commit = commit,
    .hash = hash,
    .payload = payload,
    .company = company,
    .to_json = to_json,
    .from_json = from_json,
    .free = mkphase_free,
};

/* ---- intents: parsed and queued here, judged by market_step ---- */

static int queue(struct tick_ctx *ctx, const struct market_intent *mi, char *reason, size_t n)
{
    struct mkphase *p = tick_state(ctx, &tick_phase_market);

    if (!p ||
        market_grow((void **)&p->pend, &p->cap_pend, p->npend + 1, sizeof(*p->pend)) != BT_OK) {
        snprintf(reason, n, "the market is not available");
        return BT_ERR;
    }
    p->pend[p->npend++] = *mi;
    tick_touch(ctx, mi->account);
    return BT_OK;
}

static int refuse(const struct bt_err *e, char *reason, size_t n)
{
    snprintf(reason, n, "invalid %s: %s", e->nfields ? e->fields[0].field : "arguments",
             e->nfields ? e->fields[0].message : e->detail);
    return BT_ERR;
}

static int apply_trade(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct market_intent mi = {
        .id = in->id, .account = in->company_id, .kind = MARKET_INTENT_TRADE};
    struct bt_err e;

    err_clear(&e);
    if (market_trade_parse(in->args, &mi.req, &e) != BT_OK)
        return refuse(&e, reason, n);
    return queue(ctx, &mi, reason, n);
}

static int apply_cancel(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct market_intent mi = {
        .id = in->id, .account = in->company_id, .kind = MARKET_INTENT_CANCEL};
    struct bt_err e;

    err_clear(&e);
    if (market_cancel_parse(in->args, &mi.order_id, &e) != BT_OK)
        return refuse(&e, reason, n);
    return queue(ctx, &mi, reason, n);
}

const struct intent_kind intent_market_trade = {"market.trade", apply_trade};
const struct intent_kind intent_market_cancel = {"market.cancel", apply_cancel};
