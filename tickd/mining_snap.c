/*
 * mining_snap.c - canonical hash and JSON snapshots of the mining state.
 *
 * The hash must not depend on the order of the entity arrays (swap-removal
 * and loading order change it) and must stay O(n) for a million groups, so
 * it is not computed over a sorted copy: every entity is folded into two
 * 64-bit words with the SplitMix64 finaliser, the words of all entities are
 * added (tick_lanes_add, a commutative combination), and the two sums, the counts, the wear
 * indexes and the catalog go into the caller's BLAKE2b state.  This detects
 * any divergence between two runs (its purpose), it is not meant to resist a
 * forger.
 *
 * Snapshots list entities sorted by id, with names (region, cooling,
 * firmware, model id) instead of indexes, so they survive catalog reorders.
 */
#include "mining.h"
#include "rng.h"
#include "tick.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void feed(crypto_generichash_state *h, const int64_t *v, int n)
{
    unsigned char buf[8];

    for (int i = 0; i < n; i++) {
        uint64_t x = (uint64_t)v[i];
        for (int j = 0; j < 8; j++)
            buf[j] = (unsigned char)(x >> (8 * j));
        crypto_generichash_update(h, buf, sizeof(buf));
    }
}

static int site_fields(const struct mining_site *st, int64_t *v)
{
    const struct mining_contract *c = &st->contract;
    int n = 0;

    v[n++] = 2;
    v[n++] = st->id;
    v[n++] = st->company_id;
    v[n++] = st->region;
    v[n++] = st->tier;
    v[n++] = st->cooling;
    v[n++] = st->capacity_w;
    v[n++] = st->slots;
    v[n++] = st->created_tick;
    v[n++] = st->uptime_sum_ppm;
    v[n++] = st->ticks_run;
    v[n++] = c->id;
    v[n++] = c->kind;
    v[n++] = c->price_uusd_kwh;
    v[n++] = c->capacity_w;
    v[n++] = c->start_tick;
    v[n++] = c->end_tick;
    v[n++] = c->threshold_uusd_kwh;
    v[n++] = c->credit_uusd_kwh;
    return n;
}

static int group_fields(const struct mining_group *g, int64_t *v)
{
    int n = 0;

    v[n++] = 3;
    v[n++] = g->id;
    v[n++] = g->site_id;
    v[n++] = g->model;
    v[n++] = g->firmware;
    v[n++] = g->count;
    v[n++] = g->failed;
    v[n++] = g->wear0_ppm;
    v[n++] = g->windex0;
    v[n++] = g->installed_tick;
    v[n++] = g->maint_until;
    return n;
}

static void hash_catalog(const struct mining_catalog *c, crypto_generichash_state *h)
{
    int64_t v[16];

    for (int i = 0; i < c->nmodels; i++) {
        const struct mining_model *m = &c->models[i];
        crypto_generichash_update(h, (const unsigned char *)m->id, strlen(m->id) + 1);
        v[0] = m->hash_ghs, v[1] = m->power_w, v[2] = m->price_uusd, v[3] = m->lifetime_days;
        v[4] = m->afr_ppm, v[5] = m->wear_hazard_ppm, v[6] = m->wear_loss_ppm;
        v[7] = m->cooling_mask, v[8] = m->retired;
        feed(h, v, 9);
    }
    for (int i = 0; i < MINING_NCOOLING; i++) {
        const struct mining_cooling_type *k = &c->cooling[i];
        v[0] = k->pue_ppm, v[1] = k->wear_ppm, v[2] = k->hazard_ppm, v[3] = k->heat_sens_ppm;
        v[4] = k->oc_headroom_ppm, v[5] = k->slots_per_mw;
        feed(h, v, 6);
    }
    for (int i = 0; i < MINING_NTIERS; i++) {
        v[0] = c->tiers[i].capacity_kw;
        feed(h, v, 1);
    }
    v[0] = c->maint_restore_ppm;
    feed(h, v, 1);
}

void mining_hash(const struct mining_state *s, crypto_generichash_state *h)
{
    struct tick_lanes l = {0, 0};
    int64_t v[24];

    crypto_generichash_update(h, (const unsigned char *)"mining/1", 8);
    hash_catalog(&s->cat, h);
    v[0] = s->tick, v[1] = s->ncompanies, v[2] = s->nsites, v[3] = s->ngroups;
    feed(h, v, 4);
    feed(h, &s->windex[0][0][0], MINING_NREGIONS * MINING_NCOOLING * MINING_NFIRMWARE);
    for (int i = 0; i < s->ncompanies; i++) {
        v[0] = 1, v[1] = s->companies[i].id, v[2] = s->companies[i].rem_nsat;
        tick_lanes_add(&l, v, 3);
    }
    for (int i = 0; i < s->nsites; i++)
        tick_lanes_add(&l, v, site_fields(&s->sites[i], v));
    for (int i = 0; i < s->ngroups; i++)
        tick_lanes_add(&l, v, group_fields(&s->groups[i], v));
    v[0] = (int64_t)l.a, v[1] = (int64_t)l.b;
    feed(h, v, 2);
}

/* ---- JSON ---- */

struct order {
    int64_t id;
    int32_t idx;
};

static int cmp_order(const void *a, const void *b)
{
    const struct order *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static void put_i64(struct json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}

static struct json_object *site_json(const struct mining_site *st)
{
    struct json_object *o = json_object_new_object(), *c = NULL;

    put_i64(o, "id", st->id);
    put_i64(o, "company_id", st->company_id);
    json_object_object_add(o, "region", json_object_new_string(mining_region_name(st->region)));
    put_i64(o, "tier", st->tier);
    json_object_object_add(o, "cooling", json_object_new_string(mining_cooling_name(st->cooling)));
    put_i64(o, "capacity_w", st->capacity_w);
    put_i64(o, "slots", st->slots);
    put_i64(o, "created_tick", st->created_tick);
    put_i64(o, "uptime_sum_ppm", st->uptime_sum_ppm);
    put_i64(o, "ticks_run", st->ticks_run);
    if (st->contract.kind != MINING_SPOT) {
        const struct mining_contract *k = &st->contract;
        c = json_object_new_object();
        put_i64(c, "id", k->id);
        json_object_object_add(c, "kind", json_object_new_string(mining_contract_name(k->kind)));
        put_i64(c, "price_uusd_kwh", k->price_uusd_kwh);
        put_i64(c, "capacity_w", k->capacity_w);
        put_i64(c, "start_tick", k->start_tick);
        put_i64(c, "end_tick", k->end_tick);
        put_i64(c, "threshold_uusd_kwh", k->threshold_uusd_kwh);
        put_i64(c, "credit_uusd_kwh", k->credit_uusd_kwh);
    }
    json_object_object_add(o, "contract", c);
    return o;
}

static struct json_object *group_json(const struct mining_state *s, const struct mining_group *g)
{
    struct json_object *o = json_object_new_object();

    put_i64(o, "id", g->id);
    put_i64(o, "site_id", g->site_id);
    json_object_object_add(o, "model", json_object_new_string(s->cat.models[g->model].id));
    json_object_object_add(o, "firmware",
                           json_object_new_string(mining_firmware_name(g->firmware)));
    put_i64(o, "count", g->count);
    put_i64(o, "failed", g->failed);
    put_i64(o, "wear0_ppm", g->wear0_ppm);
    put_i64(o, "windex0", g->windex0);
    put_i64(o, "installed_tick", g->installed_tick);
    put_i64(o, "maint_until", g->maint_until);
    return o;
}

/* Sorted (id, index) pairs of n entities whose id is at ids + i * stride bytes. */
static struct order *sorted(const void *base, size_t stride, int n)
{
    struct order *o = malloc((size_t)(n ? n : 1) * sizeof(*o));

    if (!o)
        return NULL;
    for (int i = 0; i < n; i++) {
        o[i].id = *(const int64_t *)((const char *)base + (size_t)i * stride);
        o[i].idx = i;
    }
    qsort(o, (size_t)n, sizeof(*o), cmp_order);
    return o;
}

struct json_object *mining_to_json(const struct mining_state *s)
{
    struct json_object *j = json_object_new_object(), *a;
    struct order *oc = sorted(s->companies, sizeof(*s->companies), s->ncompanies);
    struct order *os = sorted(s->sites, sizeof(*s->sites), s->nsites);
    struct order *og = sorted(s->groups, sizeof(*s->groups), s->ngroups);

    if (!j || !oc || !os || !og) {
        json_object_put(j);
        j = NULL;
        goto out;
    }
    put_i64(j, "tick", s->tick);
    a = json_object_new_array();
    for (int i = 0; i < MINING_NREGIONS * MINING_NCOOLING * MINING_NFIRMWARE; i++)
        json_object_array_add(a, json_object_new_int64((&s->windex[0][0][0])[i]));
    json_object_object_add(j, "windex", a);
    a = json_object_new_array();
    for (int i = 0; i < s->ncompanies; i++) {
        struct json_object *o = json_object_new_object();
        put_i64(o, "id", s->companies[oc[i].idx].id);
        put_i64(o, "rem_nsat", s->companies[oc[i].idx].rem_nsat);
        json_object_array_add(a, o);
    }
    json_object_object_add(j, "companies", a);
    a = json_object_new_array();
    for (int i = 0; i < s->nsites; i++)
        json_object_array_add(a, site_json(&s->sites[os[i].idx]));
    json_object_object_add(j, "sites", a);
    a = json_object_new_array();
    for (int i = 0; i < s->ngroups; i++)
        json_object_array_add(a, group_json(s, &s->groups[og[i].idx]));
    json_object_object_add(j, "groups", a);
out:
    free(oc);
    free(os);
    free(og);
    return j;
}

/* Reads an integer member; BT_ERR (with the member named) when missing or not an integer. */
static int get_i64(struct json_object *o, const char *k, int64_t *out, struct bt_err *err)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return err_internal(err, "mining snapshot: '%s' missing or not an integer", k);
    *out = json_object_get_int64(v);
    return BT_OK;
}

static int get_name(struct json_object *o, const char *k, int (*parse)(const char *), int *out,
                    struct bt_err *err)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string) ||
        (*out = parse(json_object_get_string(v))) < 0)
        return err_internal(err, "mining snapshot: '%s' missing or unknown", k);
    return BT_OK;
}

static int get_array(struct json_object *j, const char *k, struct json_object **a,
                     struct bt_err *err)
{
    if (!json_object_object_get_ex(j, k, a) || !json_object_is_type(*a, json_type_array))
        return err_internal(err, "mining snapshot: '%s' missing or not an array", k);
    return BT_OK;
}

static int contract_from(struct json_object *o, struct mining_contract *c, struct bt_err *err)
{
    int kind = 0;

    if (!o || json_object_is_type(o, json_type_null))
        return BT_OK;
    if (get_name(o, "kind", mining_contract_parse, &kind, err) != BT_OK ||
        get_i64(o, "id", &c->id, err) != BT_OK ||
        get_i64(o, "price_uusd_kwh", &c->price_uusd_kwh, err) != BT_OK ||
        get_i64(o, "capacity_w", &c->capacity_w, err) != BT_OK ||
        get_i64(o, "start_tick", &c->start_tick, err) != BT_OK ||
        get_i64(o, "end_tick", &c->end_tick, err) != BT_OK ||
        get_i64(o, "threshold_uusd_kwh", &c->threshold_uusd_kwh, err) != BT_OK ||
        get_i64(o, "credit_uusd_kwh", &c->credit_uusd_kwh, err) != BT_OK)
        return BT_ERR;
    c->kind = (uint8_t)kind;
    return BT_OK;
}

static int site_from(struct mining_state *s, struct json_object *o, struct bt_err *err)
{
    struct mining_site st = {0};
    struct json_object *c = NULL;
    int region = 0, cooling = 0;
    int64_t tier, slots;

    if (get_i64(o, "id", &st.id, err) != BT_OK ||
        get_i64(o, "company_id", &st.company_id, err) != BT_OK ||
        get_name(o, "region", mining_region_parse, &region, err) != BT_OK ||
        get_i64(o, "tier", &tier, err) != BT_OK ||
        get_name(o, "cooling", mining_cooling_parse, &cooling, err) != BT_OK ||
        get_i64(o, "capacity_w", &st.capacity_w, err) != BT_OK ||
        get_i64(o, "slots", &slots, err) != BT_OK ||
        get_i64(o, "created_tick", &st.created_tick, err) != BT_OK ||
        get_i64(o, "uptime_sum_ppm", &st.uptime_sum_ppm, err) != BT_OK ||
        get_i64(o, "ticks_run", &st.ticks_run, err) != BT_OK)
        return BT_ERR;
    if (tier < 1 || tier > MINING_NTIERS || slots < 0 || slots > INT32_MAX)
        return err_internal(err, "mining snapshot: site %lld tier or slots out of range",
                            (long long)st.id);
    json_object_object_get_ex(o, "contract", &c);
    if (contract_from(c, &st.contract, err) != BT_OK)
        return BT_ERR;
    st.region = (uint8_t)region;
    st.cooling = (uint8_t)cooling;
    st.tier = (uint8_t)tier;
    st.slots = (int32_t)slots;
    return mining_site_add(s, &st, err) < 0 ? BT_ERR : BT_OK;
}

static int model_parse_in(const struct mining_catalog *c, struct json_object *o, int *out,
                          struct bt_err *err)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, "model", &v) || !json_object_is_type(v, json_type_string) ||
        (*out = mining_model_find(c, json_object_get_string(v))) < 0)
        return err_internal(err, "mining snapshot: 'model' missing or not in the catalog");
    return BT_OK;
}

static int group_from(struct mining_state *s, struct json_object *o, struct bt_err *err)
{
    struct mining_group g = {0};
    int model = 0, fw = 0;
    int64_t count, failed;

    if (get_i64(o, "id", &g.id, err) != BT_OK || get_i64(o, "site_id", &g.site_id, err) != BT_OK ||
        model_parse_in(&s->cat, o, &model, err) != BT_OK ||
        get_name(o, "firmware", mining_firmware_parse, &fw, err) != BT_OK ||
        get_i64(o, "count", &count, err) != BT_OK || get_i64(o, "failed", &failed, err) != BT_OK ||
        get_i64(o, "wear0_ppm", &g.wear0_ppm, err) != BT_OK ||
        get_i64(o, "windex0", &g.windex0, err) != BT_OK ||
        get_i64(o, "installed_tick", &g.installed_tick, err) != BT_OK ||
        get_i64(o, "maint_until", &g.maint_until, err) != BT_OK)
        return BT_ERR;
    if (count < 1 || count > MINING_MAX_COUNT || failed < 0 || failed > count || g.windex0 < 0)
        return err_internal(err, "mining snapshot: group %lld counts out of range",
                            (long long)g.id);
    g.model = (uint16_t)model;
    g.firmware = (uint8_t)fw;
    g.count = (int32_t)count;
    g.failed = (int32_t)failed;
    return mining_group_add(s, &g, err) < 0 ? BT_ERR : BT_OK;
}

int mining_from_json(struct mining_state *s, struct json_object *j, struct bt_err *err)
{
    struct json_object *a;
    int64_t *wi = &s->windex[0][0][0];
    size_t nw = MINING_NREGIONS * MINING_NCOOLING * MINING_NFIRMWARE;

    mining_clear(s);
    if (get_i64(j, "tick", &s->tick, err) != BT_OK || get_array(j, "windex", &a, err) != BT_OK)
        return BT_ERR;
    if (json_object_array_length(a) != nw)
        return err_internal(err, "mining snapshot: windex must have %zu entries", nw);
    for (size_t i = 0; i < nw; i++) {
        struct json_object *v = json_object_array_get_idx(a, i);
        if (!json_object_is_type(v, json_type_int))
            return err_internal(err, "mining snapshot: windex[%zu] is not an integer", i);
        wi[i] = json_object_get_int64(v);
    }
    if (get_array(j, "companies", &a, err) != BT_OK)
        return BT_ERR;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *o = json_object_array_get_idx(a, i);
        int64_t id, rem;
        if (get_i64(o, "id", &id, err) != BT_OK || get_i64(o, "rem_nsat", &rem, err) != BT_OK ||
            mining_company_add(s, id, rem, err) < 0)
            return BT_ERR;
    }
    if (get_array(j, "sites", &a, err) != BT_OK)
        return BT_ERR;
    for (size_t i = 0; i < json_object_array_length(a); i++)
        if (site_from(s, json_object_array_get_idx(a, i), err) != BT_OK)
            return BT_ERR;
    if (get_array(j, "groups", &a, err) != BT_OK)
        return BT_ERR;
    for (size_t i = 0; i < json_object_array_length(a); i++)
        if (group_from(s, json_object_array_get_idx(a, i), err) != BT_OK)
            return BT_ERR;
    return BT_OK;
}

/* ---- the catalog as JSON (replays price and size exactly as the live tick) ---- */

static struct json_object *ints(const int64_t *v, int n)
{
    struct json_object *a = json_object_new_array_ext(n);

    for (int i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_int64(v[i]));
    return a;
}

/* Reads n integers of array a into v; false unless a is exactly that. */
static bool ints_in(struct json_object *a, int64_t *v, int n)
{
    if (!json_object_is_type(a, json_type_array) || (int)json_object_array_length(a) != n)
        return false;
    for (int i = 0; i < n; i++) {
        struct json_object *x = json_object_array_get_idx(a, (size_t)i);
        if (!json_object_is_type(x, json_type_int))
            return false;
        v[i] = json_object_get_int64(x);
    }
    return true;
}

struct json_object *mining_catalog_to_json(const struct mining_catalog *c)
{
    struct json_object *j = json_object_new_object(), *a = json_object_new_array();
    int64_t v[10];

    for (int i = 0; i < c->nmodels; i++) {
        const struct mining_model *m = &c->models[i];
        struct json_object *o = json_object_new_object();
        v[0] = m->year, v[1] = m->hash_ghs, v[2] = m->power_w, v[3] = m->price_uusd;
        v[4] = m->lifetime_days, v[5] = m->afr_ppm, v[6] = m->wear_hazard_ppm;
        v[7] = m->wear_loss_ppm, v[8] = m->cooling_mask, v[9] = m->retired;
        json_object_object_add(o, "id", json_object_new_string(m->id));
        json_object_object_add(o, "name", json_object_new_string(m->name));
        json_object_object_add(o, "v", ints(v, 10));
        json_object_array_add(a, o);
    }
    json_object_object_add(j, "models", a);
    a = json_object_new_array();
    for (int i = 0; i < MINING_NCOOLING; i++) {
        const struct mining_cooling_type *k = &c->cooling[i];
        v[0] = k->pue_ppm, v[1] = k->wear_ppm, v[2] = k->hazard_ppm, v[3] = k->heat_sens_ppm;
        v[4] = k->oc_headroom_ppm, v[5] = k->slots_per_mw;
        json_object_array_add(a, ints(v, 6));
    }
    json_object_object_add(j, "cooling", a);
    a = json_object_new_array();
    for (int i = 0; i < MINING_NTIERS; i++) {
        v[0] = c->tiers[i].capacity_kw, v[1] = c->tiers[i].outage_mult_ppm;
        json_object_array_add(a, ints(v, 2));
    }
    json_object_object_add(j, "tiers", a);
    a = json_object_new_array();
    for (int i = 0; i < MINING_NCONTRACT; i++) {
        const struct mining_contract_terms *t = &c->terms[i];
        v[0] = t->price_ppm, v[1] = t->threshold_ppm, v[2] = t->credit_ppm;
        v[3] = t->min_ticks, v[4] = t->max_ticks;
        json_object_array_add(a, ints(v, 5));
    }
    json_object_object_add(j, "terms", a);
    v[0] = c->maint_service_ppm, v[1] = c->maint_repair_ppm, v[2] = c->maint_restore_ppm;
    v[3] = c->maint_downtime_secs, v[4] = c->nominal_heat_ppm;
    json_object_object_add(j, "params", ints(v, 5));
    return j;
}

int mining_catalog_from_json(struct mining_catalog *c, struct json_object *j, struct bt_err *err)
{
    struct json_object *a, *x;
    int64_t v[10];
    int n;

    memset(c, 0, sizeof(*c));
    if (!json_object_object_get_ex(j, "models", &a) || !json_object_is_type(a, json_type_array) ||
        (n = (int)json_object_array_length(a)) > MINING_MAX_MODELS)
        return err_internal(err, "mining catalog snapshot: bad models");
    c->nmodels = n;
    for (int i = 0; i < n; i++) {
        struct mining_model *m = &c->models[i];
        struct json_object *o = json_object_array_get_idx(a, (size_t)i), *id, *name, *vals;
        if (!json_object_object_get_ex(o, "id", &id) ||
            !json_object_object_get_ex(o, "name", &name) ||
            !json_object_object_get_ex(o, "v", &vals) || !ints_in(vals, v, 10) ||
            strlen(json_object_get_string(id)) >= sizeof(m->id) ||
            strlen(json_object_get_string(name)) >= sizeof(m->name))
            return err_internal(err, "mining catalog snapshot: bad model %d", i);
        snprintf(m->id, sizeof(m->id), "%s", json_object_get_string(id));
        snprintf(m->name, sizeof(m->name), "%s", json_object_get_string(name));
        m->year = (int32_t)v[0], m->hash_ghs = v[1], m->power_w = v[2], m->price_uusd = v[3];
        m->lifetime_days = (int32_t)v[4], m->afr_ppm = (int32_t)v[5];
        m->wear_hazard_ppm = (int32_t)v[6], m->wear_loss_ppm = (int32_t)v[7];
        m->cooling_mask = (uint8_t)v[8];
        m->retired = v[9] != 0;
    }
    if (!json_object_object_get_ex(j, "cooling", &a) || !json_object_is_type(a, json_type_array) ||
        json_object_array_length(a) != MINING_NCOOLING)
        return err_internal(err, "mining catalog snapshot: bad cooling");
    for (int i = 0; i < MINING_NCOOLING; i++) {
        struct mining_cooling_type *k = &c->cooling[i];
        if (!ints_in(json_object_array_get_idx(a, (size_t)i), v, 6))
            return err_internal(err, "mining catalog snapshot: bad cooling %d", i);
        snprintf(k->id, sizeof(k->id), "%s", mining_cooling_name(i));
        k->pue_ppm = (int32_t)v[0], k->wear_ppm = (int32_t)v[1], k->hazard_ppm = (int32_t)v[2];
        k->heat_sens_ppm = (int32_t)v[3], k->oc_headroom_ppm = (int32_t)v[4];
        k->slots_per_mw = (int32_t)v[5];
    }
    if (!json_object_object_get_ex(j, "tiers", &a) || !json_object_is_type(a, json_type_array) ||
        json_object_array_length(a) != MINING_NTIERS)
        return err_internal(err, "mining catalog snapshot: bad tiers");
    for (int i = 0; i < MINING_NTIERS; i++) {
        if (!ints_in(json_object_array_get_idx(a, (size_t)i), v, 2))
            return err_internal(err, "mining catalog snapshot: bad tier %d", i + 1);
        c->tiers[i] = (struct mining_grid_tier){i + 1, v[0], (int32_t)v[1]};
    }
    if (!json_object_object_get_ex(j, "terms", &a) || !json_object_is_type(a, json_type_array) ||
        json_object_array_length(a) != MINING_NCONTRACT)
        return err_internal(err, "mining catalog snapshot: bad terms");
    for (int i = 0; i < MINING_NCONTRACT; i++) {
        if (!ints_in(json_object_array_get_idx(a, (size_t)i), v, 5))
            return err_internal(err, "mining catalog snapshot: bad terms %d", i);
        c->terms[i] =
            (struct mining_contract_terms){(int32_t)v[0], (int32_t)v[1], (int32_t)v[2], v[3], v[4]};
    }
    if (!json_object_object_get_ex(j, "params", &x) || !ints_in(x, v, 5))
        return err_internal(err, "mining catalog snapshot: bad params");
    c->maint_service_ppm = (int32_t)v[0], c->maint_repair_ppm = (int32_t)v[1];
    c->maint_restore_ppm = (int32_t)v[2], c->maint_downtime_secs = v[3];
    c->nominal_heat_ppm = (int32_t)v[4];
    return BT_OK;
}
