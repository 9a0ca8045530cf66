/*
 * ledger.c - the in-memory double-entry ledger and its tick phase (see
 * ledger.h).
 *
 * Accounts are a sorted array (binary search; companies are opened rarely,
 * so inserting with memmove is fine) so that hashing and snapshots are in
 * one canonical order whatever order they were loaded or opened in.  The
 * pending entries of a tick reference accounts by key, not by position, and
 * are turned into database ids only when persisted.  This file never
 * writes a balance: PostgreSQL derives balances from the entries (trigger
 * in migrations/0005_engine.sql), so the two can never disagree silently.
 */
#include "ledger.h"
#include "pgarr.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEDGER_MAX_GRANT 1000000000000000LL /* 1e9 USD in micro-dollars */

static const char *const sys_names[LEDGER_NSYS] = {
    "company",     "starting_grant",   "admin_grant",
    "mining",      "energy",           "purchases",
    "fees",        "insurance",        "market_makers",
    "market_fees", "market_insurance", "market_clearing",
};
static const char *const cur_names[LEDGER_NCUR] = {"usd", "btc"};

const char *ledger_sys_name(int sys)
{
    return sys >= 0 && sys < LEDGER_NSYS ? sys_names[sys] : "?";
}

const char *ledger_cur_name(int cur)
{
    return cur >= 0 && cur < LEDGER_NCUR ? cur_names[cur] : "?";
}

static int parse_name(const char *s, const char *const *names, int n)
{
    int i;

    for (i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

bool ledger_is_faucet(int sys)
{
    return sys == LEDGER_STARTING_GRANT || sys == LEDGER_ADMIN_GRANT || sys == LEDGER_MINING;
}

bool ledger_is_sink(int sys)
{
    return sys == LEDGER_ENERGY || sys == LEDGER_PURCHASES || sys == LEDGER_FEES ||
           sys == LEDGER_MARKET_FEES;
}

bool ledger_is_house(int sys)
{
    return sys == LEDGER_MARKET_MM || sys == LEDGER_MARKET_INSURANCE ||
           sys == LEDGER_MARKET_CLEARING;
}

void ledger_init(struct ledger *l, int64_t world_id)
{
    memset(l, 0, sizeof(*l));
    l->world_id = world_id;
}

void ledger_free(struct ledger *l)
{
    free(l->acc);
    free(l->pend);
    free(l->accr);
    free(l->settled);
    memset(l, 0, sizeof(*l));
}

static int cmp_key(int sys, int64_t company, int cur, const struct ledger_account *a)
{
    if (sys != a->sys)
        return sys < a->sys ? -1 : 1;
    if (company != a->company)
        return company < a->company ? -1 : 1;
    if (cur != a->cur)
        return cur < a->cur ? -1 : 1;
    return 0;
}

/* Index of the key, or of where it would be inserted (*found = false).
 * Company accounts come first, ordered by company id, and ids are spread
 * about evenly: the search starts from a window guessed from the id
 * (bt_guess_window; the mining step looks up every mining company's
 * accounts every tick). */
#define SEARCH_WINDOW 32
static size_t search(const struct ledger *l, int sys, int64_t company, int cur, bool *found)
{
    size_t lo = 0, hi = l->n;

    if (sys == LEDGER_COMPANY && l->ncomp > 0) {
        size_t n = l->ncomp;
        bt_guess_window(company, l->acc[0].company, l->acc[n - 1].company, n, SEARCH_WINDOW, &lo,
                        &hi);
        if ((lo > 0 && cmp_key(sys, company, cur, &l->acc[lo]) < 0) ||
            (hi < n && cmp_key(sys, company, cur, &l->acc[hi]) >= 0)) {
            lo = 0;
            hi = n;
        }
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(sys, company, cur, &l->acc[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

struct ledger_account *ledger_find(const struct ledger *l, int sys, int64_t company, int cur)
{
    bool found;
    size_t i = search(l, sys, company, cur, &found);

    return found ? &l->acc[i] : NULL;
}

int ledger_add(struct ledger *l, int sys, int64_t company, int cur, int64_t balance, int64_t db_id)
{
    bool found;
    size_t i;

    if (sys < 0 || sys >= LEDGER_NSYS || cur < 0 || cur >= LEDGER_NCUR ||
        (sys == LEDGER_COMPANY) != (company != 0))
        return BT_ERR;
    i = search(l, sys, company, cur, &found);
    if (found)
        return BT_ERR;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct ledger_account *g = realloc(l->acc, cap * sizeof(*g));
        if (!g)
            return BT_ERR;
        l->acc = g;
        l->cap = cap;
    }
    memmove(&l->acc[i + 1], &l->acc[i], (l->n - i) * sizeof(*l->acc));
    l->acc[i] = (struct ledger_account){sys, company, cur, balance, db_id};
    l->n++;
    if (sys == LEDGER_COMPANY)
        l->ncomp++;
    return BT_OK;
}

int ledger_open_company(struct ledger *l, int64_t company)
{
    if (company <= 0 || ledger_find(l, LEDGER_COMPANY, company, LEDGER_USD) ||
        ledger_find(l, LEDGER_COMPANY, company, LEDGER_BTC))
        return BT_ERR;
    if (ledger_add(l, LEDGER_COMPANY, company, LEDGER_USD, 0, 0) != BT_OK)
        return BT_ERR;
    if (ledger_add(l, LEDGER_COMPANY, company, LEDGER_BTC, 0, 0) != BT_OK) {
        bool found;
        size_t i = search(l, LEDGER_COMPANY, company, LEDGER_USD, &found);
        memmove(&l->acc[i], &l->acc[i + 1], (l->n - i - 1) * sizeof(*l->acc));
        l->n--;
        l->ncomp--;
        return BT_ERR;
    }
    return BT_OK;
}

int64_t ledger_balance(const struct ledger *l, int64_t company, int cur)
{
    const struct ledger_account *a = ledger_find(l, LEDGER_COMPANY, company, cur);

    return a ? a->balance : -1;
}

/* ---- accruals (see ledger.h) ---- */

static bool same_key(const struct ledger_entry *a, const struct ledger_entry *b)
{
    return a->from_sys == b->from_sys && a->to_sys == b->to_sys && a->cur == b->cur &&
           a->from_company == b->from_company && a->to_company == b->to_company &&
           strcmp(a->kind, b->kind) == 0;
}

static size_t accr_slot(const struct ledger *l, const struct ledger_entry *e)
{
    uint64_t h = 1469598103934665603ull;
    const char *k;

    for (k = e->kind; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    h ^= (uint64_t)e->from_company * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)e->to_company * 0xC2B2AE3D27D4EB4Full;
    h ^= (uint64_t)(e->from_sys * 64 + e->to_sys * 4 + e->cur) * 0x165667B19E3779F9ull;
    h ^= h >> 29;
    return (size_t)h & (l->accr_cap - 1);
}

/* The slot of e's key (used or the free one where it goes); accr_cap > 0. */
static size_t accr_find(const struct ledger *l, const struct ledger_entry *e)
{
    size_t i = accr_slot(l, e);

    while (l->accr[i].used && !same_key(&l->accr[i].e, e))
        i = (i + 1) & (l->accr_cap - 1);
    return i;
}

/* Room for one more key. */
static int accr_reserve(struct ledger *l)
{
    struct ledger_accrued *old = l->accr;
    size_t i, cap = l->accr_cap;

    if ((l->naccr + 1) * 2 <= l->accr_cap)
        return BT_OK;
    l->accr_cap = cap ? cap * 2 : 1024;
    l->accr = calloc(l->accr_cap, sizeof(*l->accr));
    if (!l->accr) {
        l->accr = old;
        l->accr_cap = cap;
        return BT_ERR;
    }
    for (i = 0; i < cap; i++)
        if (old[i].used)
            l->accr[accr_find(l, &old[i].e)] = old[i];
    free(old);
    return BT_OK;
}

/* Adds e->amount to the accrued amount of its key. */
static int accr_add(struct ledger *l, const struct ledger_entry *e)
{
    size_t i;

    if (accr_reserve(l) != BT_OK)
        return BT_ERR;
    i = accr_find(l, e);
    if (!l->accr[i].used) {
        l->accr[i].used = true;
        l->accr[i].e = *e;
        l->accr[i].e.amount = 0;
        l->accr[i].e.intent_id = 0;
        l->naccr++;
    }
    if (l->accr[i].e.amount > INT64_MAX - e->amount)
        return BT_ERR;
    l->accr[i].e.amount += e->amount;
    return BT_OK;
}

static int64_t accr_company(const struct ledger_entry *e)
{
    return e->from_sys == LEDGER_COMPANY ? e->from_company : e->to_company;
}

static int move(struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                int64_t to_company, int cur, int64_t amount, const char *kind, int64_t intent_id,
                bool accrue, char *why, size_t why_len)
{
    struct ledger_account *from = ledger_find(l, from_sys, from_company, cur);
    struct ledger_account *to = ledger_find(l, to_sys, to_company, cur);

    if (!from || !to || from == to) {
        snprintf(why, why_len, "no such account");
        return BT_ERR;
    }
    if (amount <= 0) {
        snprintf(why, why_len, "amount must be positive");
        return BT_ERR;
    }
    if (ledger_is_sink(from_sys) || ledger_is_faucet(to_sys)) {
        snprintf(why, why_len, "money cannot leave a sink or enter a faucet");
        return BT_ERR;
    }
    if (!ledger_is_faucet(from_sys) && !ledger_is_house(from_sys) && from->balance < amount) {
        snprintf(why, why_len, "insufficient funds: %s balance %" PRId64 ", needed %" PRId64,
                 ledger_cur_name(cur), from->balance, amount);
        return BT_ERR;
    }
    if (from->balance < INT64_MIN + amount || to->balance > INT64_MAX - amount) {
        snprintf(why, why_len, "balance overflow");
        return BT_ERR;
    }
    if (accrue) {
        const struct ledger_entry e = {from_sys,   to_sys, cur, from_company,
                                       to_company, amount, 0,   kind};
        if ((from_sys == LEDGER_COMPANY) == (to_sys == LEDGER_COMPANY) ||
            accr_add(l, &e) != BT_OK) {
            snprintf(why, why_len, "cannot accrue this move");
            return BT_ERR;
        }
        from->balance -= amount;
        to->balance += amount;
        return BT_OK;
    }
    if (l->npend == l->pcap) {
        size_t cap = l->pcap ? l->pcap * 2 : 256;
        struct ledger_entry *g = realloc(l->pend, cap * sizeof(*g));
        if (!g) {
            snprintf(why, why_len, "out of memory");
            return BT_ERR;
        }
        l->pend = g;
        l->pcap = cap;
    }
    l->pend[l->npend++] = (struct ledger_entry){from_sys,   to_sys, cur,       from_company,
                                                to_company, amount, intent_id, kind};
    from->balance -= amount;
    to->balance += amount;
    return BT_OK;
}

int ledger_move(struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                int64_t to_company, int cur, int64_t amount, const char *kind, int64_t intent_id,
                char *why, size_t why_len)
{
    return move(l, from_sys, from_company, to_sys, to_company, cur, amount, kind, intent_id, false,
                why, why_len);
}

int ledger_accrue(struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                  int64_t to_company, int cur, int64_t amount, const char *kind, char *why,
                  size_t why_len)
{
    return move(l, from_sys, from_company, to_sys, to_company, cur, amount, kind, 0, true, why,
                why_len);
}

int ledger_restore_accrued(struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                           int64_t to_company, int cur, int64_t amount, const char *kind)
{
    struct ledger_account *from = ledger_find(l, from_sys, from_company, cur);
    struct ledger_account *to = ledger_find(l, to_sys, to_company, cur);
    const struct ledger_entry e = {from_sys,   to_sys, cur, from_company,
                                   to_company, amount, 0,   kind};

    /* The loaded balances lack these amounts: no funds check, they were
     * checked when they were accrued. */
    if (!from || !to || from == to || amount <= 0 ||
        (from_sys == LEDGER_COMPANY) == (to_sys == LEDGER_COMPANY) ||
        from->balance < INT64_MIN + amount || to->balance > INT64_MAX - amount ||
        accr_add(l, &e) != BT_OK)
        return BT_ERR;
    from->balance -= amount;
    to->balance += amount;
    return BT_OK;
}

int64_t ledger_unsettled(const struct ledger *l, int from_sys, int64_t from_company, int to_sys,
                         int64_t to_company, int cur, const char *kind)
{
    const struct ledger_entry e = {from_sys, to_sys, cur, from_company, to_company, 0, 0, kind};
    const struct ledger_accrued *a;

    if (l->accr_cap == 0)
        return 0;
    a = &l->accr[accr_find(l, &e)];
    return a->used && !a->settling ? a->e.amount : 0;
}

bool ledger_check(const struct ledger *l, char *why, size_t why_len)
{
    int64_t sum[LEDGER_NCUR] = {0, 0};
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct ledger_account *a = &l->acc[i];
        bool bad = ledger_is_house(a->sys)    ? false
                   : ledger_is_faucet(a->sys) ? a->balance > 0
                                              : a->balance < 0;
        if (bad) {
            snprintf(why, why_len, "%s account %" PRId64 " (%s) has balance %" PRId64,
                     ledger_sys_name(a->sys), a->company, ledger_cur_name(a->cur), a->balance);
            return false;
        }
        sum[a->cur] += a->balance;
    }
    for (i = 0; i < LEDGER_NCUR; i++)
        if (sum[i] != 0) {
            snprintf(why, why_len, "%s balances sum to %" PRId64 ", not 0", ledger_cur_name((int)i),
                     sum[i]);
            return false;
        }
    return true;
}

/* Every balance moves every tick for a mining company, so the accounts are
 * folded afresh each time, but with tick_lanes (a few multiplications per
 * account) rather than BLAKE2b over every field. */
void ledger_hash(const struct ledger *l, crypto_generichash_state *h)
{
    struct tick_lanes lanes = {0, 0};
    size_t i;

    for (i = 0; i < l->n; i++) {
        const int64_t v[4] = {l->acc[i].sys, l->acc[i].company, l->acc[i].cur, l->acc[i].balance};
        tick_lanes_add(&lanes, v, 4);
    }
    tick_hash_i64(h, (int64_t)l->n);
    tick_hash_i64(h, (int64_t)lanes.a);
    tick_hash_i64(h, (int64_t)lanes.b);
}

struct json_object *ledger_to_json(const struct ledger *l)
{
    struct json_object *arr = json_object_new_array_ext((int)l->n);
    size_t i;

    for (i = 0; i < l->n; i++) {
        struct json_object *a = json_object_new_array_ext(4);
        json_object_array_add(a, json_object_new_string(ledger_sys_name(l->acc[i].sys)));
        json_object_array_add(a, json_object_new_int64(l->acc[i].company));
        json_object_array_add(a, json_object_new_string(ledger_cur_name(l->acc[i].cur)));
        json_object_array_add(a, json_object_new_int64(l->acc[i].balance));
        json_object_array_add(arr, a);
    }
    return arr;
}

int ledger_from_json(struct ledger *l, struct json_object *j, struct bt_err *err)
{
    size_t i, n;

    if (!json_object_is_type(j, json_type_array))
        return err_internal(err, "ledger snapshot is not an array");
    n = json_object_array_length(j);
    for (i = 0; i < n; i++) {
        struct json_object *a = json_object_array_get_idx(j, i);
        int sys, cur;
        if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != 4)
            return err_internal(err, "bad ledger account in snapshot");
        sys = parse_name(json_object_get_string(json_object_array_get_idx(a, 0)), sys_names,
                         LEDGER_NSYS);
        cur = parse_name(json_object_get_string(json_object_array_get_idx(a, 2)), cur_names,
                         LEDGER_NCUR);
        if (ledger_add(l, sys, json_object_get_int64(json_object_array_get_idx(a, 1)), cur,
                       json_object_get_int64(json_object_array_get_idx(a, 3)), 0) != BT_OK)
            return err_internal(err, "bad or duplicate ledger account in snapshot");
    }
    return BT_OK;
}

/* ---- persistence ---- */

/* Only the missing ones: the load runs in a REPEATABLE READ snapshot, and
 * ON CONFLICT meeting a row a running tick updated since (its balance)
 * would be a serialization failure (tickd verify next to a live world). */
DB_STMT(q_system_accounts,
        "INSERT INTO ledger_accounts (world_id, system, currency) "
        "SELECT $1, s, c FROM unnest($2::text[]) s, unnest($3::text[]) c WHERE NOT EXISTS "
        "(SELECT 1 FROM ledger_accounts a WHERE a.world_id = $1 AND a.system = s AND "
        "a.currency = c) ON CONFLICT (world_id, system, currency) WHERE system IS NOT NULL "
        "DO NOTHING");
DB_STMT(q_accounts, "SELECT id, COALESCE(company_id, 0), COALESCE(system, 'company'), currency, "
                    "balance FROM ledger_accounts WHERE world_id = $1");
DB_STMT(q_new_accounts,
        "INSERT INTO ledger_accounts (world_id, company_id, currency) "
        "SELECT $1, * FROM unnest($2::bigint[], $3::text[]) RETURNING id, company_id, currency");
DB_STMT(q_entries,
        "INSERT INTO ledger_entries (world_id, tick, debit_account, credit_account, currency, "
        "amount, kind, intent_id) SELECT $1, $2, * FROM unnest($3::bigint[], $4::bigint[], "
        "$5::text[], $6::bigint[], $7::text[], $8::bigint[])");

static int load(struct tick_ctx *ctx, void **state, struct bt_err *err)
{
    struct ledger *l = malloc(sizeof(*l));
    struct pgarr sys, cur;
    char w[24];
    const char *p[3] = {w, NULL, NULL};
    PGresult *r;
    int i, rc = BT_ERR;

    if (!l)
        return err_internal(err, "out of memory");
    ledger_init(l, ctx->world->id);
    *state = l;
    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    pgarr_init(&sys);
    pgarr_init(&cur);
    for (i = 1; i < LEDGER_NSYS; i++)
        pgarr_str(&sys, sys_names[i]);
    for (i = 0; i < LEDGER_NCUR; i++)
        pgarr_str(&cur, cur_names[i]);
    p[1] = pgarr_done(&sys);
    p[2] = pgarr_done(&cur);
    if (!db_exec(ctx->db, ctx->arena, &q_system_accounts, 3, p, err))
        goto out;
    r = db_exec(ctx->db, ctx->arena, &q_accounts, 1, p, err);
    if (!r)
        goto out;
    for (i = 0; i < PQntuples(r); i++) {
        int s = parse_name(db_str(r, i, 2), sys_names, LEDGER_NSYS);
        int c = parse_name(db_str(r, i, 3), cur_names, LEDGER_NCUR);
        if (ledger_add(l, s, db_i64(r, i, 1), c, db_i64(r, i, 4), db_i64(r, i, 0)) != BT_OK) {
            err_internal(err, "ledger account %s cannot be loaded", db_str(r, i, 0));
            goto out;
        }
    }
    rc = BT_OK;
out:
    pgarr_free(&sys);
    pgarr_free(&cur);
    return rc;
}

static int persist_new_accounts(struct tick_ctx *ctx, struct ledger *l, struct bt_err *err)
{
    struct pgarr co, cu;
    char w[24];
    const char *p[3] = {w, NULL, NULL};
    PGresult *r;
    size_t i;
    int k, rc = BT_ERR;

    pgarr_init(&co);
    pgarr_init(&cu);
    for (i = 0; i < l->n; i++)
        if (l->acc[i].db_id == 0) {
            pgarr_i64(&co, l->acc[i].company);
            pgarr_str(&cu, cur_names[l->acc[i].cur]);
        }
    if (co.n == 0) {
        rc = BT_OK;
        goto out;
    }
    snprintf(w, sizeof(w), "%" PRId64, l->world_id);
    p[1] = pgarr_done(&co);
    p[2] = pgarr_done(&cu);
    if (!p[1] || !p[2]) {
        err_internal(err, "too many new ledger accounts in one tick");
        goto out;
    }
    r = db_exec(ctx->db, ctx->arena, &q_new_accounts, 3, p, err);
    if (!r)
        goto out;
    for (k = 0; k < PQntuples(r); k++) {
        struct ledger_account *a = ledger_find(l, LEDGER_COMPANY, db_i64(r, k, 1),
                                               parse_name(db_str(r, k, 2), cur_names, LEDGER_NCUR));
        if (a)
            a->db_id = db_i64(r, k, 0);
    }
    rc = BT_OK;
out:
    pgarr_free(&co);
    pgarr_free(&cu);
    return rc;
}

/* The entry's columns into the statement's arrays. */
static int add_entry(const struct ledger *l, const struct ledger_entry *e, struct pgarr *a,
                     struct bt_err *err)
{
    const struct ledger_account *f = ledger_find(l, e->from_sys, e->from_company, e->cur);
    const struct ledger_account *to = ledger_find(l, e->to_sys, e->to_company, e->cur);

    if (!f || !to || !f->db_id || !to->db_id)
        return err_internal(err, "a ledger entry references an unsaved account");
    pgarr_i64(&a[0], f->db_id);
    pgarr_i64(&a[1], to->db_id);
    pgarr_str(&a[2], cur_names[e->cur]);
    pgarr_i64(&a[3], e->amount);
    pgarr_str(&a[4], e->kind);
    if (e->intent_id)
        pgarr_i64(&a[5], e->intent_id);
    else
        pgarr_null(&a[5]);
    return BT_OK;
}

/* (company, currency) pairs that another entry of this tick debits, as
 * company * LEDGER_NCUR + currency (sorted, may repeat). */
static int64_t *debited(struct tick_ctx *ctx, const struct ledger *l, size_t *n)
{
    int64_t *v = arena_alloc(ctx->arena, (l->npend + 1) * sizeof(*v));
    size_t i;

    *n = 0;
    if (!v)
        return NULL;
    for (i = 0; i < l->npend; i++)
        if (l->pend[i].from_sys == LEDGER_COMPANY)
            v[(*n)++] = l->pend[i].from_company * LEDGER_NCUR + l->pend[i].cur;
    qsort(v, *n, sizeof(*v), bt_cmp_i64);
    return v;
}

/* Companies whose accruals must be settled before this tick's entries: an
 * entry debits an account into which an unsettled amount was credited, so
 * the database balance it meets would be below the true one (sorted, may
 * repeat).  An account with only unsettled debits is above the true
 * balance: a debit meets it safely, the company waits for its turn. */
static int64_t *must_settle(struct tick_ctx *ctx, const struct ledger *l, size_t *n)
{
    size_t nd, i;
    int64_t *d = debited(ctx, l, &nd), *v;

    *n = 0;
    if (!d || !(v = arena_alloc(ctx->arena, (l->naccr + 1) * sizeof(*v))))
        return NULL;
    for (i = 0; nd && i < l->accr_cap; i++) {
        const struct ledger_entry *e = &l->accr[i].e;
        int64_t k;
        if (!l->accr[i].used || e->amount == 0 || e->to_sys != LEDGER_COMPANY)
            continue;
        k = e->to_company * LEDGER_NCUR + e->cur;
        if (bsearch(&k, d, nd, sizeof(*d), bt_cmp_i64))
            v[(*n)++] = e->to_company; /* at most one per key: naccr bounds it */
    }
    qsort(v, *n, sizeof(*v), bt_cmp_i64);
    return v;
}

/* Accruals settled now: those of companies at their turn (every
 * LEDGER_SETTLE_EVERY ticks, staggered by id) and those must_settle()
 * names.  Their slots go to l->settled (marked settling, zeroed at commit),
 * their aggregated entries to a.  A persist that failed and runs again
 * starts from its own marks cleared. */
static int settle(struct tick_ctx *ctx, struct ledger *l, struct pgarr *a, struct bt_err *err)
{
    size_t nev, i;
    int64_t *ev = must_settle(ctx, l, &nev);

    if (!ev)
        return err_internal(err, "out of memory");
    for (i = 0; i < l->nsettled; i++)
        l->accr[l->settled[i]].settling = false;
    l->nsettled = 0;
    for (i = 0; i < l->accr_cap; i++) {
        const struct ledger_entry *e = &l->accr[i].e;
        int64_t c;
        if (!l->accr[i].used || e->amount == 0)
            continue;
        c = accr_company(e);
        if ((c + ctx->tick) % LEDGER_SETTLE_EVERY != 0 &&
            !bsearch(&c, ev, nev, sizeof(*ev), bt_cmp_i64))
            continue;
        if (l->nsettled == l->settled_cap) {
            size_t cap = l->settled_cap ? l->settled_cap * 2 : 1024;
            int64_t *g = realloc(l->settled, cap * sizeof(*g));
            if (!g)
                return err_internal(err, "out of memory");
            l->settled = g;
            l->settled_cap = cap;
        }
        l->settled[l->nsettled++] = (int64_t)i;
        l->accr[i].settling = true;
        if (add_entry(l, e, a, err) != BT_OK)
            return BT_ERR;
    }
    return BT_OK;
}

static int persist(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct ledger *l = state;
    struct pgarr a[6];
    char w[24], t[24];
    const char *p[2] = {w, t};
    size_t i;
    int rc = BT_ERR;

    if (persist_new_accounts(ctx, l, err) != BT_OK)
        return BT_ERR;
    pgarr_init_n(a, 6);
    for (i = 0; i < l->npend; i++)
        if (add_entry(l, &l->pend[i], a, err) != BT_OK)
            goto out;
    if (settle(ctx, l, a, err) != BT_OK)
        goto out;
    snprintf(w, sizeof(w), "%" PRId64, l->world_id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    if (pgarr_exec(ctx->db, ctx->arena, &q_entries, p, 2, a, 6, err) != BT_OK)
        goto out;
    rc = BT_OK;
out:
    pgarr_free_n(a, 6);
    return rc;
}

static void commit(struct tick_ctx *ctx, void *state)
{
    struct ledger *l = state;
    size_t i;

    BT_UNUSED(ctx);
    l->npend = 0;
    /* Settled keys stay (they recur next tick) with nothing accrued. */
    for (i = 0; i < l->nsettled; i++) {
        l->accr[l->settled[i]].e.amount = 0;
        l->accr[l->settled[i]].settling = false;
    }
    l->nsettled = 0;
}

static void hash(const void *state, crypto_generichash_state *h)
{
    ledger_hash(state, h);
}

static void company(const void *state, int64_t company_id, struct json_object *payload)
{
    const struct ledger *l = state;
    struct json_object *b = json_object_new_object();

    json_object_object_add(b, "usd_micro",
                           json_object_new_int64(ledger_balance(l, company_id, LEDGER_USD)));
    json_object_object_add(b, "btc_sat",
                           json_object_new_int64(ledger_balance(l, company_id, LEDGER_BTC)));
    json_object_object_add(payload, "balances", b);
}

static struct json_object *to_json(const void *state)
{
    return ledger_to_json(state);
}

static int from_json(struct tick_ctx *ctx, void **state, struct json_object *j, struct bt_err *err)
{
    struct ledger *l = malloc(sizeof(*l));

    if (!l)
        return err_internal(err, "out of memory");
    ledger_init(l, ctx->world->id);
    *state = l;
    return ledger_from_json(l, j, err);
}

static void lfree(void *state)
{
    ledger_free(state);
    free(state);
}

const struct tick_phase tick_phase_ledger = {
    .name = "ledger",
    .load = load,
    .persist = persist,
    .commit = commit,
    .hash = hash,
    .company = company,
    .to_json = to_json,
    .from_json = from_json,
    .free = lfree,
};

/* ---- company.open: the accounts and the starting grant ---- */

static int apply_open(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct ledger *l = tick_state(ctx, &tick_phase_ledger);
    struct json_object *g;
    int64_t grant;

    if (!in->args || !json_object_object_get_ex(in->args, "grant", &g) ||
        !json_object_is_type(g, json_type_int) || (grant = json_object_get_int64(g)) < 0 ||
        grant > LEDGER_MAX_GRANT) {
        snprintf(reason, n, "invalid grant");
        return BT_ERR;
    }
    if (ledger_open_company(l, in->company_id) != BT_OK) {
        snprintf(reason, n, "company already open");
        return BT_ERR;
    }
    /* A faucet never lacks funds and the grant is capped: this cannot fail
     * short of the faucet overflowing, which would be a bug. */
    if (grant > 0 && ledger_move(l, LEDGER_STARTING_GRANT, 0, LEDGER_COMPANY, in->company_id,
                                 LEDGER_USD, grant, "starting_grant", in->id, reason, n) != BT_OK)
        BT_BUG("starting grant refused: %s", reason);
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

const struct intent_kind intent_company_open = {"company.open", apply_open};

/* ---- verification in PostgreSQL ---- */

/* Every account's entries summed in one pass over ledger_entries (all
 * worlds: an entry between worlds would show), not looked up per account:
 * the entries have no index by account (0021).  The first finding is
 * reported: accounts, then currencies, then entries, by id. */
DB_STMT(q_verify,
        "WITH moved AS ("
        "  SELECT x.account, sum(x.amount) AS derived FROM ("
        "    SELECT credit_account AS account, amount FROM ledger_entries"
        "    UNION ALL SELECT debit_account, -amount FROM ledger_entries) x GROUP BY x.account), "
        "sums AS ("
        "  SELECT a.id, a.balance, a.currency, COALESCE(m.derived, 0) AS derived"
        "  FROM ledger_accounts a LEFT JOIN moved m ON m.account = a.id WHERE a.world_id = $1) "
        "SELECT msg FROM ("
        "SELECT 1 AS k, id, 'account ' || id || ' balance ' || balance || ' <> entries ' || "
        "  derived AS msg FROM sums WHERE balance <> derived "
        "UNION ALL SELECT 2, 0, 'currency ' || currency || ' sums to ' || sum(balance) FROM sums "
        "  GROUP BY currency HAVING sum(balance) <> 0 "
        "UNION ALL SELECT 3, e.id, 'entry ' || e.id || ' moves money out of a sink or into a "
        "faucet' FROM ledger_entries e JOIN ledger_accounts d ON d.id = e.debit_account "
        "  JOIN ledger_accounts c ON c.id = e.credit_account WHERE e.world_id = $1 AND "
        "  (d.system IN ('energy', 'purchases', 'fees', 'market_fees') OR "
        "   c.system IN ('starting_grant', 'admin_grant', 'mining'))) f "
        "ORDER BY k, id, msg LIMIT 5");

int ledger_verify_db(struct db *db, struct arena *a, int64_t world_id, struct bt_err *err)
{
    char w[24];
    const char *p[1] = {w};
    PGresult *r;

    snprintf(w, sizeof(w), "%" PRId64, world_id);
    r = db_exec(db, a, &q_verify, 1, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) > 0)
        return err_set(err, 500, "internal", "ledger invariant violated: %s", db_str(r, 0, 0));
    return BT_OK;
}
