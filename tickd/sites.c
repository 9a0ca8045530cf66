/*
 * sites.c - the sites phase and the site.create intent (see sites.h).
 *
 * Sites are kept sorted by (company, id): counting a company's sites is a
 * binary search, and the hash and the snapshot see one canonical order.
 * Sites built during a tick are appended to a side list (with id and
 * per-company count maps for lookups) and merged into the sorted array by
 * sites_settle() in one pass: an insertion each would move the array.
 * The build-cost table is part of the state (and of the snapshot), so a
 * replay prices sites exactly as the live tick did.  Applying site.create
 * re-validates the arguments with the handler's own rule table, then pays
 * the cost into the purchases sink through the ledger; nothing changes
 * unless every check passed.
 */
#include "sites.h"
#include "ledger.h"
#include "pgarr.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_site(int64_t company, int64_t id, const struct site *s)
{
    if (company != s->company_id)
        return company < s->company_id ? -1 : 1;
    if (id != s->id)
        return id < s->id ? -1 : 1;
    return 0;
}

/* The first site at or after (company, id), searched from a window guessed
 * from the company id (bt_guess_window: every site.create counts the
 * company's sites, thousands of times a tick). */
static size_t lower_bound(const struct sites *s, int64_t company, int64_t id)
{
    size_t lo = 0, hi = s->n;

    if (s->n > 0) {
        bt_guess_window(company, s->v[0].company_id, s->v[s->n - 1].company_id, s->n, 32, &lo, &hi);
        if ((lo > 0 && cmp_site(company, id, &s->v[lo]) <= 0) ||
            (hi < s->n && cmp_site(company, id, &s->v[hi]) > 0)) {
            lo = 0;
            hi = s->n;
        }
    }

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_site(company, id, &s->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the maps of the side list ---- */

static size_t map_slot(const struct sites_map *m, int64_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;

    return (size_t)(h >> 17) & (m->cap - 1);
}

/* Slot of key, or of the empty slot where it would go (cap > 0). */
static size_t map_find(const struct sites_map *m, int64_t key)
{
    size_t i = map_slot(m, key);

    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int32_t *map_get(const struct sites_map *m, int64_t key)
{
    size_t i;

    if (!m->cap)
        return NULL;
    i = map_find(m, key);
    return m->keys[i] ? &m->vals[i] : NULL;
}

/* Room for one more key without failing. */
static int map_reserve(struct sites_map *m)
{
    size_t i;

    if ((m->n + 1) * 2 > m->cap) {
        struct sites_map g = {NULL, NULL, 0, m->cap ? m->cap * 2 : 64};
        g.keys = calloc(g.cap, sizeof(*g.keys));
        g.vals = calloc(g.cap, sizeof(*g.vals));
        if (!g.keys || !g.vals) {
            free(g.keys);
            free(g.vals);
            return BT_ERR;
        }
        for (i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = map_find(&g, m->keys[i]);
                g.keys[j] = m->keys[i];
                g.vals[j] = m->vals[i];
                g.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    return BT_OK;
}

/* The value slot of key, inserted as 0 when absent (map_reserve first). */
static int32_t *map_put(struct sites_map *m, int64_t key)
{
    size_t i = map_find(m, key);

    if (!m->keys[i]) {
        m->keys[i] = key;
        m->vals[i] = 0;
        m->n++;
    }
    return &m->vals[i];
}

static void map_clear(struct sites_map *m)
{
    if (m->n)
        memset(m->keys, 0, m->cap * sizeof(*m->keys));
    m->n = 0;
}

static void map_free(struct sites_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

const struct site *sites_find(const struct sites *s, int64_t company_id, int64_t id)
{
    size_t i = lower_bound(s, company_id, id);
    const int32_t *k;

    if (i < s->n && cmp_site(company_id, id, &s->v[i]) == 0)
        return &s->v[i];
    k = map_get(&s->add_ids, id);
    return k && s->add[*k].company_id == company_id ? &s->add[*k] : NULL;
}

size_t sites_count(const struct sites *s, int64_t company_id)
{
    const int32_t *k = map_get(&s->add_companies, company_id);

    return lower_bound(s, company_id + 1, INT64_MIN) - lower_bound(s, company_id, INT64_MIN) +
           (k ? (size_t)*k : 0);
}

static int cmp_sites(const void *a, const void *b)
{
    const struct site *x = a, *y = b;

    return cmp_site(x->company_id, x->id, y);
}

void sites_settle(struct sites *s)
{
    size_t i, j, k;

    if (s->nadd == 0)
        return;
    /* Capacity for all of them was reserved when each was added. */
    qsort(s->add, s->nadd, sizeof(*s->add), cmp_sites);
    i = s->n, j = s->nadd, k = s->n + s->nadd;
    while (j > 0) {
        if (i > 0 && cmp_site(s->v[i - 1].company_id, s->v[i - 1].id, &s->add[j - 1]) > 0)
            s->v[--k] = s->v[--i];
        else
            s->v[--k] = s->add[--j];
    }
    s->n += s->nadd;
    s->nadd = 0;
    map_clear(&s->add_ids);
    map_clear(&s->add_companies);
}

/* Adds a site to the digest of the set (state hash, see hash()). */
static void site_fold(struct sites *s, const struct site *st)
{
    int64_t v[8 + 3 * (sizeof(st->name) / 8 + 2)];
    int n = 0;

    v[n++] = st->id;
    v[n++] = st->company_id;
    v[n++] = st->grid_tier;
    v[n++] = st->build_cost;
    v[n++] = st->created_tick;
    n = tick_lanes_str(v, n, st->region);
    n = tick_lanes_str(v, n, st->cooling);
    n = tick_lanes_str(v, n, st->name);
    tick_lanes_add(&s->lanes, v, n);
}

/* Room for `need` sites in *v (capacity doubles). */
static int grow_sites(struct site **v, size_t *cap, size_t need)
{
    if (need > *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        struct site *g = realloc(*v, c * sizeof(*g));
        if (!g)
            return BT_ERR;
        *v = g;
        *cap = c;
    }
    return BT_OK;
}

/* Room for one more site in v, counting those waiting in the side list. */
static int reserve(struct sites *s)
{
    return grow_sites(&s->v, &s->cap, s->n + s->nadd + 1);
}

/* Memory for one more site in the side list, so add_pending cannot fail. */
static int reserve_pending(struct sites *s)
{
    if (reserve(s) != BT_OK || map_reserve(&s->add_ids) != BT_OK ||
        map_reserve(&s->add_companies) != BT_OK)
        return BT_ERR;
    return grow_sites(&s->add, &s->capadd, s->nadd + 1);
}

/* Appends a copy of *site to the side list (after reserve_pending). */
static void add_pending(struct sites *s, const struct site *site)
{
    *map_put(&s->add_ids, site->id) = (int32_t)s->nadd;
    (*map_put(&s->add_companies, site->company_id))++;
    s->add[s->nadd++] = *site;
    site_fold(s, site);
}

/* Inserts a copy of *site (capacity must have been reserved). */
static int insert(struct sites *s, const struct site *site)
{
    size_t i;

    sites_settle(s);
    i = lower_bound(s, site->company_id, site->id);

    if (i < s->n && cmp_site(site->company_id, site->id, &s->v[i]) == 0)
        return BT_ERR;
    if (reserve(s) != BT_OK)
        return BT_ERR;
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
    s->v[i] = *site;
    s->n++;
    site_fold(s, site);
    return BT_OK;
}

static int add_cost(struct sites *s, const char *part, const char *value, int64_t usd)
{
    struct site_cost *c;

    if (s->ncosts == SITES_MAX_COST_PARTS || !part || !value || strlen(part) >= sizeof(c->part) ||
        strlen(value) >= sizeof(c->value))
        return BT_ERR;
    c = &s->costs[s->ncosts++];
    snprintf(c->part, sizeof(c->part), "%s", part);
    snprintf(c->value, sizeof(c->value), "%s", value);
    c->usd_micro = usd;
    return BT_OK;
}

static int64_t part_cost(const struct sites *s, const char *part, const char *value)
{
    int i;

    for (i = 0; i < s->ncosts; i++)
        if (strcmp(s->costs[i].part, part) == 0 && strcmp(s->costs[i].value, value) == 0)
            return s->costs[i].usd_micro;
    return -1;
}

int64_t sites_cost(const struct sites *s, const char *region, int64_t tier, const char *cooling)
{
    char t[24];
    int64_t a, b, c;

    snprintf(t, sizeof(t), "%" PRId64, tier);
    a = part_cost(s, "region", region);
    b = part_cost(s, "grid_tier", t);
    c = part_cost(s, "cooling_type", cooling);
    return a < 0 || b < 0 || c < 0 ? -1 : a + b + c;
}

static struct sites *sites_new(void)
{
    return calloc(1, sizeof(struct sites));
}

static int fill_site(struct site *st, int64_t id, int64_t company, const char *region, int tier,
                     const char *cooling, const char *name, int64_t cost, int64_t created)
{
    memset(st, 0, sizeof(*st));
    if (!region || !cooling || !name || strlen(region) >= sizeof(st->region) ||
        strlen(cooling) >= sizeof(st->cooling) || strlen(name) >= sizeof(st->name))
        return BT_ERR;
    st->id = id;
    st->company_id = company;
    st->grid_tier = tier;
    st->build_cost = cost;
    st->created_tick = created;
    snprintf(st->region, sizeof(st->region), "%s", region);
    snprintf(st->cooling, sizeof(st->cooling), "%s", cooling);
    snprintf(st->name, sizeof(st->name), "%s", name);
    return BT_OK;
}

/* ---- phase ---- */

DB_STMT(q_costs, "SELECT part, value, usd_micro FROM site_cost_parts ORDER BY part, value");
DB_STMT(q_sites, "SELECT id, company_id, region, grid_tier, cooling_type, name, build_cost, "
                 "created_tick FROM sites WHERE world_id = $1 ORDER BY company_id, id");
DB_STMT(q_insert,
        "INSERT INTO sites (id, world_id, company_id, region, grid_tier, cooling_type, name, "
        "build_cost, created_tick) SELECT u.id, $1, u.c, u.r, u.t, u.k, u.n, u.b, u.ct FROM "
        "unnest($2::bigint[], $3::bigint[], $4::text[], $5::smallint[], $6::text[], $7::text[], "
        "$8::bigint[], $9::bigint[]) AS u(id, c, r, t, k, n, b, ct)");

static int load(struct tick_ctx *ctx, void **state, struct bt_err *err)
{
    struct sites *s = sites_new();
    char w[24];
    const char *p[1] = {w};
    PGresult *r;
    int i;

    if (!s)
        return err_internal(err, "out of memory");
    *state = s;
    r = db_exec(ctx->db, ctx->arena, &q_costs, 0, NULL, err);
    if (!r)
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++)
        if (add_cost(s, db_str(r, i, 0), db_str(r, i, 1), db_i64(r, i, 2)) != BT_OK)
            return err_internal(err, "site cost table too large");
    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    r = db_exec(ctx->db, ctx->arena, &q_sites, 1, p, err);
    if (!r)
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        struct site st;
        if (fill_site(&st, db_i64(r, i, 0), db_i64(r, i, 1), db_str(r, i, 2), (int)db_i64(r, i, 3),
                      db_str(r, i, 4), db_str(r, i, 5), db_i64(r, i, 6),
                      db_i64(r, i, 7)) != BT_OK ||
            insert(s, &st) != BT_OK)
            return err_internal(err, "site %s cannot be loaded", db_str(r, i, 0));
    }
    return BT_OK;
}

static int persist(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct sites *s = state;
    struct pgarr a[8];
    char w[24];
    const char *p[1] = {w};
    size_t i;

    sites_settle(s);
    if (s->nnew == 0)
        return BT_OK;
    pgarr_init_n(a, 8);
    for (i = 0; i < s->n; i++) {
        const struct site *st = &s->v[i];
        if (!st->is_new)
            continue;
        pgarr_i64(&a[0], st->id);
        pgarr_i64(&a[1], st->company_id);
        pgarr_str(&a[2], st->region);
        pgarr_i64(&a[3], st->grid_tier);
        pgarr_str(&a[4], st->cooling);
        pgarr_str(&a[5], st->name);
        pgarr_i64(&a[6], st->build_cost);
        pgarr_i64(&a[7], st->created_tick);
    }
    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    return pgarr_exec(ctx->db, ctx->arena, &q_insert, p, 1, a, 8, err);
}

static void commit(struct tick_ctx *ctx, void *state)
{
    struct sites *s = state;
    size_t i;

    BT_UNUSED(ctx);
    sites_settle(s);
    for (i = 0; s->nnew && i < s->n; i++)
        s->v[i].is_new = false;
    s->nnew = 0;
}

/* Sites never change once built: their digest is kept as they are added
 * (tick_lanes), so the hash does not revisit every site each tick. */
static void hash(const void *state, crypto_generichash_state *h)
{
    const struct sites *s = state;
    int k;

    tick_hash_i64(h, s->ncosts);
    for (k = 0; k < s->ncosts; k++) {
        tick_hash_str(h, s->costs[k].part);
        tick_hash_str(h, s->costs[k].value);
        tick_hash_i64(h, s->costs[k].usd_micro);
    }
    tick_hash_i64(h, (int64_t)(s->n + s->nadd));
    tick_hash_i64(h, (int64_t)s->lanes.a);
    tick_hash_i64(h, (int64_t)s->lanes.b);
}

static void company(const void *state, int64_t company_id, struct json_object *payload)
{
    json_object_object_add(payload, "sites",
                           json_object_new_int64((int64_t)sites_count(state, company_id)));
}

static struct json_object *to_json(const void *state)
{
    const struct sites *s = state;
    struct json_object *o = json_object_new_object(), *costs = json_object_new_array(),
                       *arr = json_object_new_array_ext((int)s->n);
    size_t i;
    int k;

    sites_settle((struct sites *)state); /* see hash() */
    for (k = 0; k < s->ncosts; k++) {
        struct json_object *c = json_object_new_array_ext(3);
        json_object_array_add(c, json_object_new_string(s->costs[k].part));
        json_object_array_add(c, json_object_new_string(s->costs[k].value));
        json_object_array_add(c, json_object_new_int64(s->costs[k].usd_micro));
        json_object_array_add(costs, c);
    }
    for (i = 0; i < s->n; i++) {
        const struct site *st = &s->v[i];
        struct json_object *a = json_object_new_array_ext(8);
        json_object_array_add(a, json_object_new_int64(st->id));
        json_object_array_add(a, json_object_new_int64(st->company_id));
        json_object_array_add(a, json_object_new_string(st->region));
        json_object_array_add(a, json_object_new_int(st->grid_tier));
        json_object_array_add(a, json_object_new_string(st->cooling));
        json_object_array_add(a, json_object_new_string(st->name));
        json_object_array_add(a, json_object_new_int64(st->build_cost));
        json_object_array_add(a, json_object_new_int64(st->created_tick));
        json_object_array_add(arr, a);
    }
    json_object_object_add(o, "costs", costs);
    json_object_object_add(o, "sites", arr);
    return o;
}

static const char *jstr(struct json_object *a, size_t i)
{
    return json_object_get_string(json_object_array_get_idx(a, i));
}

static int64_t jint(struct json_object *a, size_t i)
{
    return json_object_get_int64(json_object_array_get_idx(a, i));
}

static int from_json(struct tick_ctx *ctx, void **state, struct json_object *j, struct bt_err *err)
{
    struct sites *s = sites_new();
    struct json_object *costs, *arr;
    size_t i;

    BT_UNUSED(ctx);
    if (!s)
        return err_internal(err, "out of memory");
    *state = s;
    if (!json_object_object_get_ex(j, "costs", &costs) ||
        !json_object_object_get_ex(j, "sites", &arr) ||
        !json_object_is_type(costs, json_type_array) || !json_object_is_type(arr, json_type_array))
        return err_internal(err, "bad sites snapshot");
    for (i = 0; i < json_object_array_length(costs); i++) {
        struct json_object *c = json_object_array_get_idx(costs, i);
        if (add_cost(s, jstr(c, 0), jstr(c, 1), jint(c, 2)) != BT_OK)
            return err_internal(err, "bad site cost in snapshot");
    }
    for (i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *a = json_object_array_get_idx(arr, i);
        struct site st;
        if (json_object_array_length(a) != 8 ||
            fill_site(&st, jint(a, 0), jint(a, 1), jstr(a, 2), (int)jint(a, 3), jstr(a, 4),
                      jstr(a, 5), jint(a, 6), jint(a, 7)) != BT_OK ||
            insert(s, &st) != BT_OK)
            return err_internal(err, "bad site in snapshot");
    }
    return BT_OK;
}

static void sfree(void *state)
{
    struct sites *s = state;

    free(s->v);
    free(s->add);
    map_free(&s->add_ids);
    map_free(&s->add_companies);
    free(s);
}

const struct tick_phase tick_phase_sites = {
    .name = "sites",
    .load = load,
    .persist = persist,
    .commit = commit,
    .hash = hash,
    .company = company,
    .to_json = to_json,
    .from_json = from_json,
    .free = sfree,
};

/* ---- site.create ---- */

static int apply_create(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct sites *s = tick_state(ctx, &tick_phase_sites);
    struct ledger *l = tick_state(ctx, &tick_phase_ledger);
    struct site_create_in a = {0};
    struct bt_err verr;
    struct site st;
    int64_t cost;

    err_clear(&verr);
    if (valid_object(in->args, site_create_rules, &a, 0, &verr) != BT_OK) {
        snprintf(reason, n, "invalid %s: %s", verr.nfields ? verr.fields[0].field : "arguments",
                 verr.nfields ? verr.fields[0].message : verr.detail);
        return BT_ERR;
    }
    if (ledger_balance(l, in->company_id, LEDGER_USD) < 0) {
        snprintf(reason, n, "company is not open yet");
        return BT_ERR;
    }
    if (sites_count(s, in->company_id) >= SITE_MAX_PER_COMPANY) {
        snprintf(reason, n, "site limit reached (%d)", SITE_MAX_PER_COMPANY);
        return BT_ERR;
    }
    cost = sites_cost(s, a.region, a.grid_tier, a.cooling_type);
    if (cost < 0) {
        snprintf(reason, n, "no build price for this site");
        return BT_ERR;
    }
    if (fill_site(&st, in->id, in->company_id, a.region, (int)a.grid_tier, a.cooling_type, a.name,
                  cost, ctx->tick) != BT_OK ||
        reserve_pending(s) != BT_OK) {
        snprintf(reason, n, "site cannot be stored");
        return BT_ERR;
    }
    if (cost > 0 && ledger_move(l, LEDGER_COMPANY, in->company_id, LEDGER_PURCHASES, 0, LEDGER_USD,
                                cost, "site.build", in->id, reason, n) != BT_OK)
        return BT_ERR;
    st.is_new = true;
    if (sites_find(s, st.company_id, st.id))
        BT_BUG("site %" PRId64 " inserted twice", st.id); /* ids are intent ids */
    add_pending(s, &st);
    s->nnew++;
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

const struct intent_kind intent_site_create = {"site.create", apply_create};
