/*
 * market_state.c - the market's state, one tick's order of work, intake of
 * intents, ledger legs, and the canonical hash and JSON snapshot.
 *
 * market_step() is the entry point of the `market` tick phase.  It never
 * performs I/O and never reads a clock; everything it needs arrives in the
 * state, the environment and the intents, and everything it decides leaves
 * in the state and struct market_out.  Intents are processed in intent-id
 * order whatever order they arrive in; accounts never see each other during
 * intake, and the auction treats all orders of a tick alike, so sending an
 * order earlier within a tick gains nothing.
 *
 * Order of work in a tick:
 *   1. settle expired option series, list new ones;
 *   2. expire old resting orders;
 *   3. intents in id order: cancels, then validation of new orders
 *      (market_order_check, against wallet minus reservations);
 *   4. reservations recomputed; orders the wallet no longer covers are
 *      cancelled (the ledger may have moved money since they were placed);
 *   5. one batch auction per instrument (market_auction.c);
 *   6. funding at 8-hour boundaries, then margin calls and liquidations;
 *   7. statistics, reservations of what still rests, compaction.
 */
#include "market_int.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* ---- vectors and maps ---- */

int market_grow(void **v, int *cap, int need, size_t sz)
{
    void *n;
    int c;

    if (need <= *cap)
        return BT_OK;
    c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    n = realloc(*v, (size_t)c * sz);
    if (!n)
        return BT_ERR;
    *v = n;
    *cap = c;
    return BT_OK;
}

void *market_oom(struct market_tick *x, size_t sz)
{
    static _Thread_local char scratch[256];

    BT_ASSERT(sz <= sizeof(scratch));
    x->oom = true;
    memset(scratch, 0, sz);
    return scratch;
}

static uint64_t map_hash(int64_t a, int64_t b)
{
    return rng_mix((uint64_t)a * 0x9E3779B97F4A7C15ull ^ (uint64_t)b);
}

static void map_free(struct market_map *m)
{
    free(m->ka);
    free(m->kb);
    free(m->idx);
    *m = (struct market_map){0};
}

/* Slot of (a, b): its own, or the empty one where it would go. */
static int map_slot(const struct market_map *m, int64_t a, int64_t b)
{
    int i = (int)(map_hash(a, b) & (uint64_t)(m->cap - 1));

    while (m->idx[i] >= 0 && (m->ka[i] != a || m->kb[i] != b))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int map_get(const struct market_map *m, int64_t a, int64_t b)
{
    return m->cap ? m->idx[map_slot(m, a, b)] : -1;
}

static int map_resize(struct market_map *m, int cap)
{
    struct market_map n = {malloc(sizeof(int64_t) * (size_t)cap),
                           malloc(sizeof(int64_t) * (size_t)cap),
                           malloc(sizeof(int32_t) * (size_t)cap), cap};

    if (!n.ka || !n.kb || !n.idx) {
        map_free(&n);
        return BT_ERR;
    }
    for (int i = 0; i < cap; i++)
        n.idx[i] = -1;
    for (int i = 0; i < m->cap; i++)
        if (m->idx[i] >= 0) {
            int s = map_slot(&n, m->ka[i], m->kb[i]);
            n.ka[s] = m->ka[i];
            n.kb[s] = m->kb[i];
            n.idx[s] = m->idx[i];
        }
    map_free(m);
    *m = n;
    return BT_OK;
}

/* Inserts (a, b) -> v, keeping the load under one half. */
static int map_put(struct market_map *m, int64_t a, int64_t b, int v, int count)
{
    int s;

    if ((count + 1) * 2 > m->cap && map_resize(m, m->cap ? m->cap * 2 : 64) != BT_OK)
        return BT_ERR;
    s = map_slot(m, a, b);
    m->ka[s] = a;
    m->kb[s] = b;
    m->idx[s] = v;
    return BT_OK;
}

static int pos_map_rebuild(struct market_state *st)
{
    int cap = 64;

    while (cap < st->n_pos * 2 + 2)
        cap *= 2;
    map_free(&st->pos_map);
    if (map_resize(&st->pos_map, cap) != BT_OK)
        return BT_ERR;
    for (int i = 0; i < st->n_pos; i++)
        if (map_put(&st->pos_map, st->pos[i].account, st->pos[i].instr, i, i) != BT_OK)
            return BT_ERR;
    return BT_OK;
}

/* ---- lookups ---- */

bool market_is_house(int64_t account)
{
    return account <= 0;
}

static struct market_acct *acct_add(struct market_state *st, int64_t id)
{
    struct market_acct *a;

    if (market_grow((void **)&st->acc, &st->cap_acc, st->n_acc + 1, sizeof(*st->acc)) != BT_OK ||
        map_put(&st->acc_map, id, 0, st->n_acc, st->n_acc) != BT_OK)
        return NULL;
    a = &st->acc[st->n_acc++];
    *a = (struct market_acct){.id = id};
    return a;
}

struct market_acct *market_acct_at(struct market_tick *x, int64_t account)
{
    int i = map_get(&x->st->acc_map, account, 0);
    struct market_acct *a;

    if (i >= 0)
        return &x->st->acc[i];
    a = acct_add(x->st, account);
    return a ? a : market_oom(x, sizeof(*a));
}

struct market_pos *market_pos_at(struct market_tick *x, int64_t account, int32_t instr)
{
    struct market_state *st = x->st;
    int i = map_get(&st->pos_map, account, instr);
    struct market_pos *p;

    if (i >= 0)
        return &st->pos[i];
    if (market_grow((void **)&st->pos, &st->cap_pos, st->n_pos + 1, sizeof(*st->pos)) != BT_OK ||
        map_put(&st->pos_map, account, instr, st->n_pos, st->n_pos) != BT_OK)
        return market_oom(x, sizeof(*p));
    p = &st->pos[st->n_pos++];
    *p = (struct market_pos){.account = account, .instr = instr};
    return p;
}

const struct market_acct *market_acct_get(const struct market_state *st, int64_t account)
{
    int i = map_get(&st->acc_map, account, 0);

    return i >= 0 ? &st->acc[i] : NULL;
}

const struct market_pos *market_pos_get(const struct market_state *st, int64_t account,
                                        int32_t instr)
{
    int i = map_get(&st->pos_map, account, instr);

    return i >= 0 ? &st->pos[i] : NULL;
}

struct market_instr *market_instr_mut(struct market_state *st, int32_t id)
{
    int i = market_instr_index(st, id);

    return i >= 0 ? &st->ins[i] : NULL;
}

const struct market_instr *market_instr_get(const struct market_state *st, int32_t id)
{
    return market_instr_mut((struct market_state *)st, id);
}

const struct market_instr *market_instr_find(const struct market_state *st, const char *name)
{
    for (int i = 0; i < st->n_ins; i++)
        if (strcmp(st->ins[i].name, name) == 0)
            return &st->ins[i];
    return NULL;
}

/* ---- money ---- */

int64_t market_floor_div(i128 a, int64_t b)
{
    i128 q = a / b;

    if (a % b != 0 && a < 0)
        q--;
    return (int64_t)q;
}

static int64_t *bal(struct market_acct *a, enum market_currency cur)
{
    return cur == MARKET_USD ? &a->usd : &a->btc;
}

void market_xfer(struct market_tick *x, int64_t from, int64_t to, enum market_currency cur,
                 int64_t amount, enum market_xfer_kind kind, int64_t ref)
{
    struct market_transfer *l;
    struct market_acct *a;

    BT_ASSERT(amount >= 0);
    if (amount == 0)
        return;
    a = market_acct_at(x, from);
    *bal(a, cur) -= amount;
    /* Reservations guarantee this; a negative company wallet is a bug. */
    if (!market_is_house(from) && *bal(a, cur) < 0)
        BT_BUG("market: account %lld would go negative (%d)", (long long)from, (int)kind);
    *bal(market_acct_at(x, to), cur) += amount;
    l = MARKET_PUSH(x, x->out, transfers);
    *l = (struct market_transfer){from, cur, kind, -amount, ref};
    l = MARKET_PUSH(x, x->out, transfers);
    *l = (struct market_transfer){to, cur, kind, amount, ref};
}

void market_order_end(struct market_tick *x, struct market_order *o, enum market_order_status s,
                      const char *reason)
{
    struct market_order_done *d;

    if (o->status != MARKET_LIVE)
        return;
    o->status = (uint8_t)s;
    d = MARKET_PUSH(x, x->out, done);
    *d = (struct market_order_done){o->id, o->account, o->filled, s, reason};
}

int market_instr_index(const struct market_state *st, int32_t id)
{
    for (int i = 0; i < st->n_ins; i++)
        if (st->ins[i].id == id)
            return i;
    return -1;
}

/* ---- life cycle ---- */

static void instr_add(struct market_state *st, int32_t id, enum market_kind k, const char *name)
{
    struct market_instr *i;

    if (market_grow((void **)&st->ins, &st->cap_ins, st->n_ins + 1, sizeof(*st->ins)) != BT_OK)
        BT_BUG("market: out of memory at init");
    i = &st->ins[st->n_ins++];
    *i = (struct market_instr){.id = id, .kind = k, .open = true};
    snprintf(i->name, sizeof(i->name), "%s", name);
}

void market_init(struct market_state *st, const struct market_params *p)
{
    *st = (struct market_state){
        .p = *p, .next_instr_id = MARKET_FIRST_OPTION_ID, .funding_epoch = -1, .hour = -1};
    instr_add(st, MARKET_SPOT_ID, MARKET_SPOT, "BTC-USD");
    instr_add(st, MARKET_PERP_ID, MARKET_PERP, "BTC-PERP");
}

void market_free(struct market_state *st)
{
    free(st->ins);
    free(st->ord);
    free(st->acc);
    free(st->pos);
    map_free(&st->acc_map);
    map_free(&st->pos_map);
    *st = (struct market_state){0};
}

void market_out_free(struct market_out *out)
{
    free(out->results);
    free(out->fills);
    free(out->transfers);
    free(out->alerts);
    free(out->done);
    *out = (struct market_out){0};
}

void market_wallet_set(struct market_state *st, int64_t account, int64_t usd, int64_t btc)
{
    int i = map_get(&st->acc_map, account, 0);
    struct market_acct *a = i >= 0 ? &st->acc[i] : acct_add(st, account);

    if (!a)
        BT_BUG("market: out of memory");
    a->usd = usd;
    a->btc = btc;
}

int64_t market_ref_price(const struct market_state *st, const struct market_env *env,
                         const struct market_instr *ins)
{
    struct market_quote q;

    if (ins->kind != MARKET_OPTION)
        return env->fair;
    market_option_quote(&st->p, ins, env, 0, &q);
    return q.theo;
}

/* ---- intake ---- */

static int cmp_intent(const void *a, const void *b)
{
    const struct market_intent *x = *(const struct market_intent *const *)a;
    const struct market_intent *y = *(const struct market_intent *const *)b;

    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_order(const void *a, const void *b)
{
    const struct market_order *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

static struct market_order *order_find(struct market_state *st, int64_t id)
{
    struct market_order key = {.id = id};

    return bsearch(&key, st->ord, (size_t)st->n_ord, sizeof(key), cmp_order);
}

/* Records a rejection. */
static void reject(struct market_tick *x, int64_t id, const struct bt_err *e)
{
    struct market_result *r = MARKET_PUSH(x, x->out, results);

    r->intent_id = id;
    r->field[0] = r->code[0] = r->message[0] = '\0';
    if (e->nfields > 0) {
        snprintf(r->field, sizeof(r->field), "%s", e->fields[0].field);
        snprintf(r->code, sizeof(r->code), "%s", e->fields[0].code);
        snprintf(r->message, sizeof(r->message), "%s", e->fields[0].message);
    } else {
        snprintf(r->code, sizeof(r->code), "%.31s", e->type ? e->type : "error");
        snprintf(r->message, sizeof(r->message), "%.159s", e->detail);
    }
}

static void release(struct market_tick *x, struct market_order *o)
{
    struct market_acct *a = market_acct_at(x, o->account);

    a->res_usd -= o->res_usd;
    a->res_btc -= o->res_btc;
    o->res_usd = o->res_btc = 0;
}

static void intake_cancel(struct market_tick *x, const struct market_intent *in)
{
    struct market_order *o = order_find(x->st, in->order_id);
    struct bt_err e;

    /* Someone else's order answers exactly like a missing one. */
    if (!o || o->account != in->account || o->status != MARKET_LIVE) {
        err_clear(&e);
        err_field(&e, "order_id", "not_found", "no such open order");
        err_check_fields(&e);
        reject(x, in->id, &e);
        return;
    }
    release(x, o);
    market_order_end(x, o, MARKET_CANCELLED, "cancelled");
}

static void check_ctx(struct market_tick *x, int64_t account, const struct market_instr *ins,
                      struct market_check *c)
{
    const struct market_acct *a = market_acct_at(x, account);
    const struct market_pos *p = ins ? market_pos_at(x, account, ins->id) : NULL;

    *c = (struct market_check){.p = &x->st->p,
                               .ins = ins,
                               .fair = x->env->fair,
                               .usd_avail = a->usd - a->res_usd,
                               .btc_avail = a->btc - a->res_btc};
    if (ins) {
        c->ref_price = market_ref_price(x->st, x->env, ins);
        c->position = p->qty;
        c->own_max_buy = p->max_buy;
        c->own_min_sell = p->min_sell;
    }
}

static void intake_trade(struct market_tick *x, const struct market_intent *in)
{
    const struct market_instr *ins = market_instr_find(x->st, in->req.instrument);
    const struct market_order_req *r = &in->req;
    struct market_check c;
    struct market_cost cost;
    struct market_order *o;
    struct market_pos *p;
    struct market_acct *a;
    struct bt_err e;

    err_clear(&e);
    if (market_is_house(in->account)) {
        err_field(&e, "account", "forbidden", "system accounts do not trade");
        err_check_fields(&e);
        reject(x, in->id, &e);
        return;
    }
    check_ctx(x, in->account, ins, &c);
    if (market_order_check(r, &c, &cost, &e) != BT_OK) {
        reject(x, in->id, &e);
        return;
    }
    o = MARKET_PUSH(x, x->st, ord);
    *o = (struct market_order){
        .id = in->id,
        .account = in->account,
        .instr = ins->id,
        .leverage = ins->kind == MARKET_PERP ? (r->leverage > 0 ? r->leverage : 1) : 0,
        .side = (uint8_t)r->side,
        .type = (uint8_t)r->type,
        .tif = (uint8_t)r->tif,
        .status = MARKET_LIVE,
        .reduce_only = r->reduce_only,
        .qty = r->qty,
        .limit = r->type == MARKET_ORDER_LIMIT
                     ? r->limit_price
                     : market_worst_price(&x->st->p, ins, r->side, c.ref_price, c.fair),
        .tick = x->env->tick,
        .expire_s = x->env->game_s + x->st->p.order_ttl_s,
        .res_usd = cost.usd,
        .res_btc = cost.btc};
    if (ins->kind == MARKET_OPTION && o->expire_s > ins->expiry_s)
        o->expire_s = ins->expiry_s;
    a = market_acct_at(x, in->account);
    a->res_usd += cost.usd;
    a->res_btc += cost.btc;
    p = market_pos_at(x, in->account, ins->id);
    if (r->side == MARKET_BUY && o->limit > p->max_buy)
        p->max_buy = o->limit;
    if (r->side == MARKET_SELL && (p->min_sell == 0 || o->limit < p->min_sell))
        p->min_sell = o->limit;
}

/* Rebuilds the per-(account, instrument) scratch limits from live orders. */
static void own_limits(struct market_tick *x)
{
    for (int i = 0; i < x->st->n_pos; i++)
        x->st->pos[i].max_buy = x->st->pos[i].min_sell = 0;
    for (int i = 0; i < x->st->n_ord; i++) {
        struct market_order *o = &x->st->ord[i];
        struct market_pos *p;

        if (o->status != MARKET_LIVE)
            continue;
        p = market_pos_at(x, o->account, o->instr);
        if (o->side == MARKET_BUY && o->limit > p->max_buy)
            p->max_buy = o->limit;
        if (o->side == MARKET_SELL && (p->min_sell == 0 || o->limit < p->min_sell))
            p->min_sell = o->limit;
    }
}

static void intake(struct market_tick *x, const struct market_intent *in, int nin)
{
    const struct market_intent **v = malloc(sizeof(*v) * (size_t)(nin > 0 ? nin : 1));
    bool sorted = true;
    int first_new = x->st->n_ord;

    if (!v) {
        x->oom = true;
        return;
    }
    for (int i = 0; i < nin; i++)
        v[i] = &in[i];
    qsort(v, (size_t)nin, sizeof(*v), cmp_intent);
    own_limits(x);
    for (int i = 0; i < nin; i++) {
        if (v[i]->kind == MARKET_INTENT_CANCEL) {
            /* The book must be searchable: sort what this tick added so far. */
            if (x->st->n_ord > first_new) {
                qsort(x->st->ord, (size_t)x->st->n_ord, sizeof(*x->st->ord), cmp_order);
                first_new = x->st->n_ord;
            }
            intake_cancel(x, v[i]);
        } else {
            intake_trade(x, v[i]);
        }
    }
    free(v);
    for (int i = 1; i < x->st->n_ord && sorted; i++)
        sorted = x->st->ord[i - 1].id < x->st->ord[i].id;
    if (!sorted)
        qsort(x->st->ord, (size_t)x->st->n_ord, sizeof(*x->st->ord), cmp_order);
}

/* ---- the tick ---- */

/* Buckets the live orders by instrument (a counting sort keeping id order). */
static void index_orders(struct market_tick *x)
{
    struct market_state *st = x->st;
    int *pos;

    x->idx = malloc(sizeof(*x->idx) * (size_t)(st->n_ord + 1));
    x->start = calloc((size_t)st->n_ins + 2, sizeof(*x->start));
    pos = calloc((size_t)st->n_ins + 1, sizeof(*pos));
    if (!x->idx || !x->start || !pos) {
        /* Without the index no auction runs; the step reports the failure. */
        free(pos);
        free(x->idx);
        free(x->start);
        x->idx = NULL;
        x->start = NULL;
        x->oom = true;
        return;
    }
    for (int i = 0; i < st->n_ord; i++) {
        int k = market_instr_index(st, st->ord[i].instr);

        if (k >= 0 && st->ord[i].status == MARKET_LIVE)
            x->start[k + 1]++;
    }
    for (int k = 0; k < st->n_ins; k++)
        x->start[k + 1] += x->start[k];
    for (int k = 0; k < st->n_ins; k++)
        pos[k] = x->start[k];
    for (int i = 0; i < st->n_ord; i++) {
        int k = market_instr_index(st, st->ord[i].instr);

        if (k >= 0 && st->ord[i].status == MARKET_LIVE)
            x->idx[pos[k]++] = i;
    }
    free(pos);
}

static void expire_orders(struct market_tick *x)
{
    for (int i = 0; i < x->st->n_ord; i++) {
        struct market_order *o = &x->st->ord[i];

        if (o->status == MARKET_LIVE && o->expire_s <= x->env->game_s) {
            release(x, o);
            market_order_end(x, o, MARKET_EXPIRED, "expired");
        }
    }
}

/* Before anything trades in the tick: the game hours that began since the
 * last tick open their slots (at most the whole window) with the last
 * price and no volume. */
static void roll_hours(struct market_tick *x)
{
    struct market_state *st = x->st;
    int64_t h = x->env->game_s / 3600, n = h - st->hour;

    if (n <= 0)
        return;
    if (st->hour < 0 || n > MARKET_HOURS)
        n = MARKET_HOURS;
    for (int i = 0; i < st->n_ins; i++) {
        struct market_instr *ins = &st->ins[i];
        for (int64_t k = 0; k < n; k++) {
            int64_t slot = (h - k) % MARKET_HOURS; /* h - k < 0 in the first game day */
            slot = slot < 0 ? slot + MARKET_HOURS : slot;
            ins->hour_open[slot] = ins->last_price;
            ins->hour_vol[slot] = 0;
        }
    }
    st->hour = h;
}

static void stats(struct market_tick *x)
{
    struct market_state *st = x->st;

    for (int i = 0; i < st->n_ins; i++) {
        struct market_instr *ins = &st->ins[i];

        ins->mark = market_ref_price(st, x->env, ins);
        market_best(x, i, &ins->best_bid, &ins->best_ask);
        ins->open_interest = 0;
    }
    for (int i = 0; i < st->n_pos; i++) {
        struct market_instr *ins = market_instr_mut(st, st->pos[i].instr);

        if (ins && ins->kind != MARKET_SPOT && st->pos[i].qty > 0)
            ins->open_interest += st->pos[i].qty;
    }
}

static int cmp_acct(const void *a, const void *b)
{
    int64_t x = ((const struct market_acct *)a)->id, y = ((const struct market_acct *)b)->id;

    return (x > y) - (x < y);
}

static int cmp_pos(const void *a, const void *b)
{
    const struct market_pos *x = a, *y = b;

    if (x->account != y->account)
        return (x->account > y->account) - (x->account < y->account);
    return (x->instr > y->instr) - (x->instr < y->instr);
}

static bool acc_sorted(const struct market_state *st)
{
    for (int i = 1; i < st->n_acc; i++)
        if (st->acc[i - 1].id >= st->acc[i].id)
            return false;
    return true;
}

static bool pos_sorted(const struct market_state *st)
{
    for (int i = 1; i < st->n_pos; i++)
        if (cmp_pos(&st->pos[i - 1], &st->pos[i]) >= 0)
            return false;
    return true;
}

static int acc_map_rebuild(struct market_state *st)
{
    int cap = 64;

    while (cap < st->n_acc * 2 + 2)
        cap *= 2;
    map_free(&st->acc_map);
    if (map_resize(&st->acc_map, cap) != BT_OK)
        return BT_ERR;
    for (int i = 0; i < st->n_acc; i++)
        if (map_put(&st->acc_map, st->acc[i].id, 0, i, i) != BT_OK)
            return BT_ERR;
    return BT_OK;
}

/* Drops finished orders and empty positions, and puts accounts (by id) and
 * positions (by account, instrument) in canonical order: the state after a
 * tick then depends only on what it holds, not on the order things were
 * first seen in, so a market rebuilt from its tables hashes the same. */
static void compact(struct market_tick *x)
{
    struct market_state *st = x->st;
    bool moved = false;
    int n = 0;

    for (int i = 0; i < st->n_ord; i++)
        if (st->ord[i].status == MARKET_LIVE)
            st->ord[n++] = st->ord[i];
    st->n_ord = n;
    n = 0;
    for (int i = 0; i < st->n_pos; i++) {
        struct market_pos *p = &st->pos[i];

        if (p->qty != 0 || p->margin != 0 || p->collateral != 0 || p->cost != 0)
            st->pos[n++] = *p;
    }
    if (n != st->n_pos || !pos_sorted(st)) {
        st->n_pos = n;
        qsort(st->pos, (size_t)n, sizeof(*st->pos), cmp_pos);
        moved = true;
    }
    if (moved && pos_map_rebuild(st) != BT_OK)
        x->oom = true;
    if (!acc_sorted(st)) {
        qsort(st->acc, (size_t)st->n_acc, sizeof(*st->acc), cmp_acct);
        if (acc_map_rebuild(st) != BT_OK)
            x->oom = true;
    }
}

int market_step(struct market_state *st, const struct market_env *env,
                const struct market_intent *in, int nin, struct market_out *out, struct bt_err *err)
{
    struct market_tick x = {st, env, out, false, NULL, NULL};

    out->n_results = out->n_fills = out->n_transfers = out->n_alerts = out->n_done = 0;
    out->funding_rate_ppm = 0;
    out->funded = false;
    st->tick = env->tick;
    st->game_s = env->game_s;
    st->fair = env->fair;
    market_options_settle(&x);
    market_options_list(&x);
    roll_hours(&x);
    expire_orders(&x);
    intake(&x, in, nin);
    market_reserve(&x, true);
    index_orders(&x);
    for (int k = 0; k < st->n_ins; k++)
        if (st->ins[k].open)
            market_auction(&x, k);
    market_funding(&x);
    market_liquidate(&x);
    market_reserve(&x, false);
    stats(&x);
    compact(&x);
    free(x.idx);
    free(x.start);
    if (x.oom)
        return err_internal(err, "market: out of memory in tick %lld", (long long)env->tick);
    return BT_OK;
}

/* ---- canonical hash ---- */

struct hbuf {
    crypto_generichash_state *h;
    unsigned char b[4096];
    size_t n;
};

static void hflush(struct hbuf *hb)
{
    crypto_generichash_update(hb->h, hb->b, hb->n);
    hb->n = 0;
}

static void h64(struct hbuf *hb, int64_t v)
{
    uint64_t u = (uint64_t)v;

    if (hb->n + 8 > sizeof(hb->b))
        hflush(hb);
    for (int i = 0; i < 8; i++)
        hb->b[hb->n++] = (unsigned char)(u >> (8 * i));
}

static void hstr(struct hbuf *hb, const char *s)
{
    size_t n = strlen(s);

    h64(hb, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        if (hb->n == sizeof(hb->b))
            hflush(hb);
        hb->b[hb->n++] = (unsigned char)s[i];
    }
}

void market_hash(const struct market_state *st, crypto_generichash_state *h)
{
    struct hbuf hb = {.h = h};

    hstr(&hb, "market/1");
    h64(&hb, st->tick);
    h64(&hb, st->game_s);
    h64(&hb, st->fair);
    h64(&hb, st->next_instr_id);
    h64(&hb, st->funding_epoch);
    h64(&hb, st->premium_sum_ppm);
    h64(&hb, st->premium_n);
    h64(&hb, st->funding_rate_ppm);
    h64(&hb, st->hour);
    for (int i = 0; i < st->n_ins; i++) {
        const struct market_instr *s = &st->ins[i];

        h64(&hb, s->id);
        h64(&hb, s->kind);
        hstr(&hb, s->name);
        h64(&hb, s->call);
        h64(&hb, s->strike);
        h64(&hb, s->expiry_s);
        h64(&hb, s->open);
        h64(&hb, s->last_price);
        for (int k = 0; k < MARKET_HOURS; k++) {
            h64(&hb, s->hour_open[k]);
            h64(&hb, s->hour_vol[k]);
        }
        h64(&hb, s->volume_total);
    }
    for (int i = 0; i < st->n_ord; i++) {
        const struct market_order *o = &st->ord[i];

        h64(&hb, o->id);
        h64(&hb, o->account);
        h64(&hb, o->instr);
        h64(&hb, o->leverage);
        h64(&hb, o->side | o->type << 8 | o->tif << 16 | o->status << 24 |
                     (int64_t)o->reduce_only << 32);
        h64(&hb, o->qty);
        h64(&hb, o->filled);
        h64(&hb, o->limit);
        h64(&hb, o->tick);
        h64(&hb, o->expire_s);
        h64(&hb, o->res_usd);
        h64(&hb, o->res_btc);
    }
    for (int i = 0; i < st->n_acc; i++) {
        h64(&hb, st->acc[i].id);
        h64(&hb, st->acc[i].usd);
        h64(&hb, st->acc[i].btc);
        h64(&hb, st->acc[i].res_usd);
        h64(&hb, st->acc[i].res_btc);
    }
    for (int i = 0; i < st->n_pos; i++) {
        const struct market_pos *p = &st->pos[i];

        h64(&hb, p->account);
        h64(&hb, p->instr);
        h64(&hb, p->leverage);
        h64(&hb, p->qty);
        h64(&hb, (int64_t)(p->cost >> 64));
        h64(&hb, (int64_t)(uint64_t)p->cost);
        h64(&hb, p->margin);
        h64(&hb, p->collateral);
        h64(&hb, p->funding);
        h64(&hb, p->called);
    }
    hflush(&hb);
}

/* ---- JSON snapshot ---- */

#define JI(o, k, v) json_object_object_add((o), (k), json_object_new_int64((int64_t)(v)))

const char *market_i128_str(market_i128 v, char buf[MARKET_I128_LEN])
{
    char *p = buf + MARKET_I128_LEN - 1;
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;

    *p = '\0';
    do {
        *--p = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}

static json_object *i128_json(i128 v)
{
    char buf[MARKET_I128_LEN];

    return json_object_new_string(market_i128_str(v, buf));
}

static int i128_parse(const char *s, i128 *out)
{
    bool neg = *s == '-';
    unsigned __int128 u = 0;

    s += neg;
    if (!*s)
        return BT_ERR;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || u > ((unsigned __int128)1 << 120))
            return BT_ERR;
        u = u * 10 + (unsigned)(*s - '0');
    }
    *out = neg ? -(i128)u : (i128)u;
    return BT_OK;
}

static json_object *spec_json(const struct market_spec *s)
{
    json_object *o = json_object_new_object();

    JI(o, "tick", s->tick);
    JI(o, "lot", s->lot);
    JI(o, "min_qty", s->min_qty);
    JI(o, "max_qty", s->max_qty);
    JI(o, "fee_ppm", s->fee_ppm);
    JI(o, "band_ppm", s->band_ppm);
    return o;
}

/* The scalar parameters, in one table for both directions. */
// clang-format off
#define PARAM_FIELDS(X)                                                                            \
    X(lev_max) X(mmr_ppm) X(call_ppm) X(funding_interval_s) X(interest_ppm)                        \
    X(premium_clamp_ppm) X(funding_cap_ppm) X(mm_levels) X(mm_half_spread_ppm) X(mm_depth)         \
    X(mm_ref_vol_ppm) X(mm_skew_ppm_per_btc) X(mm_skew_max_ppm) X(opt_mm_levels)                   \
    X(opt_half_spread_ppm) X(opt_mm_depth) X(opt_expiry_interval_s) X(opt_expiries)                \
    X(opt_strikes) X(opt_strike_step_ppm) X(opt_strike_round) X(opt_rate_ppm) X(opt_min_life_s)    \
    X(order_ttl_s)
// clang-format on

static json_object *params_json(const struct market_params *p)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "spot", spec_json(&p->spot));
    json_object_object_add(o, "perp", spec_json(&p->perp));
    json_object_object_add(o, "option", spec_json(&p->option));
#define X(f) JI(o, #f, p->f);
    PARAM_FIELDS(X)
#undef X
    return o;
}

static json_object *i64s_json(const int64_t *v, int n)
{
    json_object *a = json_object_new_array_ext(n);

    for (int i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_int64(v[i]));
    return a;
}

json_object *market_to_json(const struct market_state *st)
{
    json_object *j = json_object_new_object(), *a;

    JI(j, "version", 1);
    json_object_object_add(j, "params", params_json(&st->p));
    JI(j, "tick", st->tick);
    JI(j, "game_s", st->game_s);
    JI(j, "fair", st->fair);
    JI(j, "next_instr_id", st->next_instr_id);
    JI(j, "funding_epoch", st->funding_epoch);
    JI(j, "premium_sum_ppm", st->premium_sum_ppm);
    JI(j, "premium_n", st->premium_n);
    JI(j, "funding_rate_ppm", st->funding_rate_ppm);
    JI(j, "hour", st->hour);
    a = json_object_new_array();
    for (int i = 0; i < st->n_ins; i++) {
        const struct market_instr *s = &st->ins[i];
        json_object *o = json_object_new_object();

        JI(o, "id", s->id);
        JI(o, "kind", s->kind);
        json_object_object_add(o, "name", json_object_new_string(s->name));
        JI(o, "call", s->call);
        JI(o, "strike", s->strike);
        JI(o, "expiry_s", s->expiry_s);
        JI(o, "open", s->open);
        JI(o, "last_price", s->last_price);
        JI(o, "mark", s->mark);
        JI(o, "best_bid", s->best_bid);
        JI(o, "best_ask", s->best_ask);
        json_object_object_add(o, "hour_open", i64s_json(s->hour_open, MARKET_HOURS));
        json_object_object_add(o, "hour_vol", i64s_json(s->hour_vol, MARKET_HOURS));
        JI(o, "volume_total", s->volume_total);
        JI(o, "open_interest", s->open_interest);
        json_object_array_add(a, o);
    }
    json_object_object_add(j, "instruments", a);
    a = json_object_new_array();
    for (int i = 0; i < st->n_ord; i++) {
        const struct market_order *s = &st->ord[i];
        json_object *o = json_object_new_object();

        JI(o, "id", s->id);
        JI(o, "account", s->account);
        JI(o, "instr", s->instr);
        JI(o, "leverage", s->leverage);
        JI(o, "side", s->side);
        JI(o, "type", s->type);
        JI(o, "tif", s->tif);
        JI(o, "status", s->status);
        JI(o, "reduce_only", s->reduce_only);
        JI(o, "qty", s->qty);
        JI(o, "filled", s->filled);
        JI(o, "limit", s->limit);
        JI(o, "tick", s->tick);
        JI(o, "expire_s", s->expire_s);
        JI(o, "res_usd", s->res_usd);
        JI(o, "res_btc", s->res_btc);
        json_object_array_add(a, o);
    }
    json_object_object_add(j, "orders", a);
    a = json_object_new_array();
    for (int i = 0; i < st->n_acc; i++) {
        json_object *o = json_object_new_object();

        JI(o, "id", st->acc[i].id);
        JI(o, "usd", st->acc[i].usd);
        JI(o, "btc", st->acc[i].btc);
        JI(o, "res_usd", st->acc[i].res_usd);
        JI(o, "res_btc", st->acc[i].res_btc);
        json_object_array_add(a, o);
    }
    json_object_object_add(j, "accounts", a);
    a = json_object_new_array();
    for (int i = 0; i < st->n_pos; i++) {
        const struct market_pos *p = &st->pos[i];
        json_object *o = json_object_new_object();

        JI(o, "account", p->account);
        JI(o, "instr", p->instr);
        JI(o, "leverage", p->leverage);
        JI(o, "qty", p->qty);
        json_object_object_add(o, "cost", i128_json(p->cost));
        JI(o, "margin", p->margin);
        JI(o, "collateral", p->collateral);
        JI(o, "funding", p->funding);
        JI(o, "called", p->called);
        json_object_array_add(a, o);
    }
    json_object_object_add(j, "positions", a);
    return j;
}

/* Reads integer member k of o into *v; records the first missing one. */
static int64_t jget(json_object *o, const char *k, const char **missing)
{
    json_object *v;

    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int)) {
        if (!*missing)
            *missing = k;
        return 0;
    }
    return json_object_get_int64(v);
}

static json_object *jarr(json_object *j, const char *k, const char **missing)
{
    json_object *v;

    if (!json_object_object_get_ex(j, k, &v) || !json_object_is_type(v, json_type_array)) {
        if (!*missing)
            *missing = k;
        return NULL;
    }
    return v;
}

/* An array of exactly n integers into v. */
static void jget_i64s(json_object *o, const char *k, int64_t *v, int n, const char **missing)
{
    json_object *a = jarr(o, k, missing);

    if (a && (int)json_object_array_length(a) != n && !*missing)
        *missing = k;
    for (int i = 0; a && !*missing && i < n; i++) {
        json_object *e = json_object_array_get_idx(a, (size_t)i);
        if (!json_object_is_type(e, json_type_int))
            *missing = k;
        else
            v[i] = json_object_get_int64(e);
    }
}

static void spec_from(json_object *p, const char *k, struct market_spec *s, const char **m)
{
    json_object *o;

    if (!json_object_object_get_ex(p, k, &o)) {
        if (!*m)
            *m = k;
        return;
    }
    *s = (struct market_spec){jget(o, "tick", m),    jget(o, "lot", m),     jget(o, "min_qty", m),
                              jget(o, "max_qty", m), jget(o, "fee_ppm", m), jget(o, "band_ppm", m)};
    if (s->tick <= 0 || s->lot <= 0)
        *m = k;
}

int market_from_json(struct market_state *st, json_object *j, struct bt_err *err)
{
    const char *m = NULL;
    json_object *p, *a;
    struct market_params prm;
    size_t n;

    if (!json_object_object_get_ex(j, "params", &p))
        return err_internal(err, "market snapshot: no params");
    spec_from(p, "spot", &prm.spot, &m);
    spec_from(p, "perp", &prm.perp, &m);
    spec_from(p, "option", &prm.option, &m);
#define X(f) prm.f = (__typeof__(prm.f))jget(p, #f, &m);
    PARAM_FIELDS(X)
#undef X
    if (m)
        return err_internal(err, "market snapshot: bad params.%s", m);
    *st = (struct market_state){.p = prm};
    st->tick = jget(j, "tick", &m);
    st->game_s = jget(j, "game_s", &m);
    st->fair = jget(j, "fair", &m);
    st->next_instr_id = (int32_t)jget(j, "next_instr_id", &m);
    st->funding_epoch = jget(j, "funding_epoch", &m);
    st->premium_sum_ppm = jget(j, "premium_sum_ppm", &m);
    st->premium_n = jget(j, "premium_n", &m);
    st->funding_rate_ppm = jget(j, "funding_rate_ppm", &m);
    st->hour = jget(j, "hour", &m);
    if ((a = jarr(j, "instruments", &m))) {
        n = json_object_array_length(a);
        for (size_t i = 0; i < n && !m; i++) {
            json_object *o = json_object_array_get_idx(a, i), *nm;
            struct market_instr *s;

            if (market_grow((void **)&st->ins, &st->cap_ins, st->n_ins + 1, sizeof(*s)) != BT_OK)
                goto oom;
            s = &st->ins[st->n_ins++];
            *s = (struct market_instr){.id = (int32_t)jget(o, "id", &m),
                                       .kind = (enum market_kind)jget(o, "kind", &m),
                                       .call = jget(o, "call", &m) != 0,
                                       .strike = jget(o, "strike", &m),
                                       .expiry_s = jget(o, "expiry_s", &m),
                                       .open = jget(o, "open", &m) != 0,
                                       .last_price = jget(o, "last_price", &m),
                                       .mark = jget(o, "mark", &m),
                                       .best_bid = jget(o, "best_bid", &m),
                                       .best_ask = jget(o, "best_ask", &m),
                                       .volume_total = jget(o, "volume_total", &m),
                                       .open_interest = jget(o, "open_interest", &m)};
            jget_i64s(o, "hour_open", s->hour_open, MARKET_HOURS, &m);
            jget_i64s(o, "hour_vol", s->hour_vol, MARKET_HOURS, &m);
            if (!json_object_object_get_ex(o, "name", &nm) || s->kind > MARKET_OPTION)
                m = "instruments[].name";
            else
                snprintf(s->name, sizeof(s->name), "%s", json_object_get_string(nm));
        }
    }
    if ((a = jarr(j, "orders", &m))) {
        n = json_object_array_length(a);
        for (size_t i = 0; i < n && !m; i++) {
            json_object *o = json_object_array_get_idx(a, i);
            struct market_order *s;

            if (market_grow((void **)&st->ord, &st->cap_ord, st->n_ord + 1, sizeof(*s)) != BT_OK)
                goto oom;
            s = &st->ord[st->n_ord++];
            *s = (struct market_order){.id = jget(o, "id", &m),
                                       .account = jget(o, "account", &m),
                                       .instr = (int32_t)jget(o, "instr", &m),
                                       .leverage = (int32_t)jget(o, "leverage", &m),
                                       .side = (uint8_t)jget(o, "side", &m),
                                       .type = (uint8_t)jget(o, "type", &m),
                                       .tif = (uint8_t)jget(o, "tif", &m),
                                       .status = (uint8_t)jget(o, "status", &m),
                                       .reduce_only = jget(o, "reduce_only", &m) != 0,
                                       .qty = jget(o, "qty", &m),
                                       .filled = jget(o, "filled", &m),
                                       .limit = jget(o, "limit", &m),
                                       .tick = jget(o, "tick", &m),
                                       .expire_s = jget(o, "expire_s", &m),
                                       .res_usd = jget(o, "res_usd", &m),
                                       .res_btc = jget(o, "res_btc", &m)};
        }
    }
    if ((a = jarr(j, "accounts", &m))) {
        n = json_object_array_length(a);
        for (size_t i = 0; i < n && !m; i++) {
            json_object *o = json_object_array_get_idx(a, i);
            struct market_acct *s = acct_add(st, jget(o, "id", &m));

            if (!s)
                goto oom;
            s->usd = jget(o, "usd", &m);
            s->btc = jget(o, "btc", &m);
            s->res_usd = jget(o, "res_usd", &m);
            s->res_btc = jget(o, "res_btc", &m);
        }
    }
    if ((a = jarr(j, "positions", &m))) {
        n = json_object_array_length(a);
        for (size_t i = 0; i < n && !m; i++) {
            json_object *o = json_object_array_get_idx(a, i), *c;
            struct market_pos *s;

            if (market_grow((void **)&st->pos, &st->cap_pos, st->n_pos + 1, sizeof(*s)) != BT_OK)
                goto oom;
            s = &st->pos[st->n_pos++];
            *s = (struct market_pos){.account = jget(o, "account", &m),
                                     .instr = (int32_t)jget(o, "instr", &m),
                                     .leverage = (int32_t)jget(o, "leverage", &m),
                                     .qty = jget(o, "qty", &m),
                                     .margin = jget(o, "margin", &m),
                                     .collateral = jget(o, "collateral", &m),
                                     .funding = jget(o, "funding", &m),
                                     .called = jget(o, "called", &m) != 0};
            if (!json_object_object_get_ex(o, "cost", &c) ||
                i128_parse(json_object_get_string(c), &s->cost) != BT_OK)
                m = "positions[].cost";
        }
    }
    if (m) {
        market_free(st);
        return err_internal(err, "market snapshot: bad or missing %s", m);
    }
    if (pos_map_rebuild(st) != BT_OK)
        goto oom;
    return BT_OK;
oom:
    market_free(st);
    return err_internal(err, "market snapshot: out of memory");
}
