/*
 * mining.c - the mining state of a world and its per-tick step (see mining.h).
 *
 * Layout: companies, sites and rig groups live in three growable arrays of
 * structs (no allocation per rig or per group), found by id through small
 * open-addressing maps.  Before a step a CSR index (company -> its sites ->
 * their groups) is rebuilt by counting sort, only when entities were added or
 * removed since the last one, so a step walks each company's data in one
 * place and threads can own disjoint ranges of companies with no locking.
 *
 * What is computed instead of stored:
 *   - wear: one cumulative index per (region, cooling, firmware) class grows
 *     each tick by tick_secs x class factor (heat included); a group stores
 *     only its wear and the index at its last event (install, firmware
 *     change, maintenance) and its wear at any tick is
 *         wear0 + (index_now - index_at_anchor) / design_life_seconds,
 *     so a group is written (and persisted) only when something happens to it;
 *   - failures: drawn from the counter-based RNG keyed by (seed, tick,
 *     RNG_FAILURE, group id), nothing stored between ticks.  Scheduling a
 *     failure time in advance was rejected: the hazard changes with regional
 *     heat every tick, so scheduled times would have to be redrawn anyway.
 *
 * Money rounding (never creates money):
 *   - yield: each company's exact share is computed in 1e-9 sat, added to
 *     its carried remainder, and only whole sats are credited; the rest
 *     carries over.  Truncation happens once per company per tick at 1e-9 sat,
 *     always downwards, so the sum credited to all companies never exceeds
 *     their exact share of the block reward;
 *   - energy cost: summed exactly per company and rounded up once (at most
 *     1 micro-USD per company per tick against the player); the running
 *     share of each site is rounded up, the hashing share down;
 *   - demand-response credit (a faucet): rounded down.
 *
 * The step mutates nothing until its only fallible allocation succeeded,
 * so an out-of-memory error leaves the state as it was.
 */
#include "mining.h"
#include "rng.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SECS_PER_YEAR 31536000
#define Q40           ((uint64_t)1 << 40)

/* ---- id maps: int64 id -> int32 index, linear probing, backward-shift delete ---- */

struct mining_idmap {
    uint32_t cap, n; /* cap: power of two */
    int64_t *keys;   /* 0 = empty (ids are > 0) */
    int32_t *vals;
};

static uint32_t idmap_slot(const struct mining_idmap *m, int64_t key)
{
    return (uint32_t)rng_mix((uint64_t)key) & (m->cap - 1);
}

static int idmap_get(const struct mining_idmap *m, int64_t key)
{
    uint32_t i;

    if (!m || m->cap == 0)
        return -1;
    for (i = idmap_slot(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key)
            return m->vals[i];
    return -1;
}

static int idmap_grow(struct mining_idmap *m)
{
    struct mining_idmap n = {m->cap ? m->cap * 2 : 64, 0, NULL, NULL};

    n.keys = calloc(n.cap, sizeof(*n.keys));
    n.vals = malloc(n.cap * sizeof(*n.vals));
    if (!n.keys || !n.vals) {
        free(n.keys);
        free(n.vals);
        return BT_ERR;
    }
    for (uint32_t i = 0; i < m->cap; i++) {
        uint32_t j;
        if (!m->keys[i])
            continue;
        for (j = idmap_slot(&n, m->keys[i]); n.keys[j]; j = (j + 1) & (n.cap - 1))
            ;
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
        n.n++;
    }
    free(m->keys);
    free(m->vals);
    *m = n;
    return BT_OK;
}

/* Inserts or updates; updating an existing key never allocates. */
static int idmap_put(struct mining_idmap *m, int64_t key, int32_t val)
{
    uint32_t i;

    for (i = m->cap ? idmap_slot(m, key) : 0; m->cap && m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return BT_OK;
        }
    if ((m->n + 1) * 2 > m->cap && idmap_grow(m) != BT_OK)
        return BT_ERR;
    for (i = idmap_slot(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
        ;
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return BT_OK;
}

static void idmap_del(struct mining_idmap *m, int64_t key)
{
    uint32_t i, j, mask = m->cap - 1;

    if (m->cap == 0)
        return;
    for (i = idmap_slot(m, key); m->keys[i] && m->keys[i] != key; i = (i + 1) & mask)
        ;
    if (!m->keys[i])
        return;
    m->keys[i] = 0;
    m->n--;
    /* Move later members of the probe run back so lookups never stop early. */
    for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        uint32_t home = idmap_slot(m, m->keys[j]);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->keys[j] = 0;
            i = j;
        }
    }
}

static void idmap_clear(struct mining_idmap *m)
{
    if (m->cap)
        memset(m->keys, 0, m->cap * sizeof(*m->keys));
    m->n = 0;
}

static void idmap_free(struct mining_idmap *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    free(m);
}

/* ---- state ---- */

static int reserve_companies(struct mining_state *s);
static int reserve_sites(struct mining_state *s);
static int reserve_groups(struct mining_state *s);

int mining_init(struct mining_state *s, const struct mining_catalog *cat, struct bt_err *err)
{
    memset(s, 0, sizeof(*s));
    s->cat = *cat;
    s->company_ids = calloc(1, sizeof(*s->company_ids));
    s->site_ids = calloc(1, sizeof(*s->site_ids));
    s->group_ids = calloc(1, sizeof(*s->group_ids));
    /* Allocate the first block of every array so that none is ever NULL. */
    if (!s->company_ids || !s->site_ids || !s->group_ids || reserve_companies(s) != BT_OK ||
        reserve_sites(s) != BT_OK || reserve_groups(s) != BT_OK) {
        mining_free(s);
        return err_internal(err, "mining: out of memory");
    }
    s->index_stale = true;
    return BT_OK;
}

void mining_free(struct mining_state *s)
{
    free(s->companies);
    free(s->sites);
    free(s->groups);
    free(s->company_res);
    free(s->site_res);
    free(s->failures);
    free(s->gfail);
    free(s->comp_site_off);
    free(s->comp_sites);
    free(s->site_group_off);
    free(s->site_groups);
    idmap_free(s->company_ids);
    idmap_free(s->site_ids);
    idmap_free(s->group_ids);
    memset(s, 0, sizeof(*s));
}

void mining_clear(struct mining_state *s)
{
    s->ncompanies = s->nsites = s->ngroups = s->nfailures = 0;
    s->tick = 0;
    memset(s->windex, 0, sizeof(s->windex));
    idmap_clear(s->company_ids);
    idmap_clear(s->site_ids);
    idmap_clear(s->group_ids);
    s->index_stale = true;
}

/* Grows *arr (and its companions) to hold one more element. */
static int grow(void **arr, int *cap, int n, size_t size)
{
    int ncap;
    void *p;

    if (n < *cap)
        return BT_OK;
    ncap = *cap ? *cap * 2 : 64;
    p = realloc(*arr, (size_t)ncap * size);
    if (!p)
        return BT_ERR;
    *arr = p;
    *cap = ncap;
    return BT_OK;
}

/* Each entity array has per-index companions (results, scratch, CSR offsets)
 * that must be at least as long; they grow together. */
static int reserve_companies(struct mining_state *s)
{
    int cap = s->cap_companies;

    if (grow((void **)&s->companies, &cap, s->ncompanies, sizeof(*s->companies)) != BT_OK)
        return BT_ERR;
    if (cap != s->cap_companies) {
        void *r = realloc(s->company_res, (size_t)cap * sizeof(*s->company_res));
        void *o = r ? realloc(s->comp_site_off, (size_t)(cap + 1) * sizeof(int32_t)) : NULL;
        if (r)
            s->company_res = r;
        if (o)
            s->comp_site_off = o;
        if (!r || !o)
            return BT_ERR;
        s->cap_companies = cap;
    }
    return BT_OK;
}

static int reserve_sites(struct mining_state *s)
{
    int cap = s->cap_sites;

    if (grow((void **)&s->sites, &cap, s->nsites, sizeof(*s->sites)) != BT_OK)
        return BT_ERR;
    if (cap != s->cap_sites) {
        void *r = realloc(s->site_res, (size_t)cap * sizeof(*s->site_res));
        void *a = r ? realloc(s->comp_sites, (size_t)cap * sizeof(int32_t)) : NULL;
        void *o = a ? realloc(s->site_group_off, (size_t)(cap + 1) * sizeof(int32_t)) : NULL;
        if (r)
            s->site_res = r;
        if (a)
            s->comp_sites = a;
        if (o)
            s->site_group_off = o;
        if (!r || !a || !o)
            return BT_ERR;
        s->cap_sites = cap;
    }
    return BT_OK;
}

static int reserve_groups(struct mining_state *s)
{
    int cap = s->cap_groups;

    if (grow((void **)&s->groups, &cap, s->ngroups, sizeof(*s->groups)) != BT_OK)
        return BT_ERR;
    if (cap != s->cap_groups) {
        void *a = realloc(s->site_groups, (size_t)cap * sizeof(int32_t));
        void *f = a ? realloc(s->gfail, (size_t)cap * sizeof(int32_t)) : NULL;
        if (a)
            s->site_groups = a;
        if (f)
            s->gfail = f;
        if (!a || !f)
            return BT_ERR;
        s->cap_groups = cap;
    }
    return BT_OK;
}

int mining_company_find(const struct mining_state *s, int64_t id)
{
    return idmap_get(s->company_ids, id);
}

int mining_site_find(const struct mining_state *s, int64_t id)
{
    return idmap_get(s->site_ids, id);
}

int mining_group_find(const struct mining_state *s, int64_t id)
{
    return idmap_get(s->group_ids, id);
}

int mining_company_add(struct mining_state *s, int64_t id, int64_t rem_nsat, struct bt_err *err)
{
    int i = s->ncompanies;

    if (id <= 0 || mining_company_find(s, id) >= 0)
        return err_internal(err, "mining: bad or duplicate company id %lld", (long long)id);
    if (rem_nsat < 0 || rem_nsat >= 1000000000)
        return err_internal(err, "mining: company %lld remainder out of range", (long long)id);
    if (reserve_companies(s) != BT_OK || idmap_put(s->company_ids, id, i) != BT_OK)
        return err_internal(err, "mining: out of memory");
    s->companies[i] = (struct mining_company){.id = id, .rem_nsat = rem_nsat};
    s->ncompanies++;
    s->index_stale = true;
    return i;
}

int mining_site_add(struct mining_state *s, const struct mining_site *site, struct bt_err *err)
{
    int i = s->nsites, c = mining_company_find(s, site->company_id);
    struct mining_site *n;

    if (site->id <= 0 || mining_site_find(s, site->id) >= 0)
        return err_internal(err, "mining: bad or duplicate site id %lld", (long long)site->id);
    if (c < 0 || site->region >= MINING_NREGIONS || site->tier < 1 || site->tier > MINING_NTIERS ||
        site->cooling >= MINING_NCOOLING || site->contract.kind >= MINING_NCONTRACT)
        return err_internal(err,
                            "mining: site %lld has a bad company, region, tier, cooling "
                            "or contract",
                            (long long)site->id);
    if (reserve_sites(s) != BT_OK || idmap_put(s->site_ids, site->id, i) != BT_OK)
        return err_internal(err, "mining: out of memory");
    n = &s->sites[i];
    *n = *site;
    n->company = c;
    n->slots_used = n->committed_w = 0;
    if (n->capacity_w <= 0 || n->slots <= 0)
        mining_site_shape(&s->cat, n->tier, n->cooling, &n->capacity_w, &n->slots);
    s->nsites++;
    s->index_stale = true;
    return i;
}

/* Adds (sign 1) or takes away (sign -1) a group's slots and committed power. */
static void site_account(struct mining_state *s, const struct mining_group *g, int sign)
{
    struct mining_site *st = &s->sites[g->site];

    st->slots_used += sign * (int64_t)g->count;
    st->committed_w +=
        sign * mining_rig_power_w(&s->cat, g->model, g->firmware, st->cooling, g->count);
}

static int64_t *windex_of(struct mining_state *s, int si, int firmware)
{
    const struct mining_site *st = &s->sites[si];

    return &s->windex[st->region][st->cooling][firmware];
}

int mining_group_add(struct mining_state *s, const struct mining_group *g, struct bt_err *err)
{
    int i = s->ngroups, si = mining_site_find(s, g->site_id);
    struct mining_group *n;

    if (g->id <= 0 || mining_group_find(s, g->id) >= 0)
        return err_internal(err, "mining: bad or duplicate group id %lld", (long long)g->id);
    if (si < 0 || g->model >= s->cat.nmodels || g->firmware >= MINING_NFIRMWARE || g->count < 1 ||
        g->count > MINING_MAX_COUNT || g->failed < 0 || g->failed > g->count || g->wear0_ppm < 0 ||
        g->wear0_ppm > MINING_PPM)
        return err_internal(err,
                            "mining: group %lld has a bad site, model, firmware, count "
                            "or wear",
                            (long long)g->id);
    if (reserve_groups(s) != BT_OK || idmap_put(s->group_ids, g->id, i) != BT_OK)
        return err_internal(err, "mining: out of memory");
    n = &s->groups[i];
    *n = *g;
    n->site = si;
    if (n->windex0 < 0)
        n->windex0 = *windex_of(s, si, n->firmware);
    site_account(s, n, 1);
    s->ngroups++;
    s->index_stale = true;
    return i;
}

int64_t mining_wear(const struct mining_catalog *cat, int model, int64_t wear0_ppm, int64_t windex0,
                    int64_t index)
{
    int64_t life = (int64_t)cat->models[model].lifetime_days * 86400;
    int64_t w = wear0_ppm + (index - windex0) / life;

    /* Clamped both ways: a loaded anchor ahead of the index must not make rigs faster. */
    return w > MINING_PPM ? MINING_PPM : w < 0 ? 0 : w;
}

static int64_t wear_at(const struct mining_catalog *cat, const struct mining_group *g, int64_t idx)
{
    return mining_wear(cat, g->model, g->wear0_ppm, g->windex0, idx);
}

int64_t mining_group_wear(const struct mining_state *s, const struct mining_group *g)
{
    const struct mining_site *st = &s->sites[g->site];

    return wear_at(&s->cat, g, s->windex[st->region][st->cooling][g->firmware]);
}

void mining_group_remove(struct mining_state *s, int gi, int32_t count)
{
    struct mining_group *g = &s->groups[gi];
    int last = s->ngroups - 1;

    site_account(s, g, -1);
    if (count < g->count) {
        int32_t f = count < g->failed ? count : g->failed;
        g->failed -= f;
        g->count -= count;
        g->dirty = true;
        site_account(s, g, 1);
        return;
    }
    idmap_del(s->group_ids, g->id);
    if (gi != last) {
        s->groups[gi] = s->groups[last];
        idmap_put(s->group_ids, s->groups[gi].id, gi); /* existing key: no allocation */
    }
    s->ngroups--;
    s->index_stale = true;
}

/* Re-anchors a group's wear at its current value (before its class changes). */
static void reanchor(struct mining_state *s, struct mining_group *g, int64_t wear, int firmware)
{
    g->wear0_ppm = wear;
    g->firmware = (uint8_t)firmware;
    g->windex0 = *windex_of(s, g->site, firmware);
    g->dirty = true;
}

void mining_group_set_firmware(struct mining_state *s, int gi, int firmware)
{
    struct mining_group *g = &s->groups[gi];

    site_account(s, g, -1);
    reanchor(s, g, mining_group_wear(s, g), firmware);
    site_account(s, g, 1);
}

void mining_group_maintain(struct mining_state *s, int gi, int64_t tick, int64_t downtime_ticks)
{
    struct mining_group *g = &s->groups[gi];
    int64_t w = mining_group_wear(s, g);

    reanchor(s, g, w - w * s->cat.maint_restore_ppm / MINING_PPM, g->firmware);
    g->failed = 0;
    g->maint_until = tick + downtime_ticks;
}

void mining_site_set_contract(struct mining_state *s, int si, const struct mining_contract *c)
{
    struct mining_site *st = &s->sites[si];

    if (c->kind == MINING_SPOT)
        memset(&st->contract, 0, sizeof(st->contract));
    else
        st->contract = *c;
    st->dirty = true;
}

void mining_site_use(const struct mining_state *s, int si, struct mining_site_use *use)
{
    use->slots_used = s->sites[si].slots_used;
    use->power_w = s->sites[si].committed_w;
}

/* Counting sort into company -> sites -> groups. */
static void build_index(struct mining_state *s)
{
    int32_t *co = s->comp_site_off, *so = s->site_group_off;

    memset(co, 0, (size_t)(s->ncompanies + 1) * sizeof(*co));
    memset(so, 0, (size_t)(s->nsites + 1) * sizeof(*so));
    for (int i = 0; i < s->nsites; i++)
        co[s->sites[i].company + 1]++;
    for (int i = 0; i < s->ngroups; i++)
        so[s->groups[i].site + 1]++;
    for (int i = 0; i < s->ncompanies; i++)
        co[i + 1] += co[i];
    for (int i = 0; i < s->nsites; i++)
        so[i + 1] += so[i];
    for (int i = 0; i < s->nsites; i++)
        s->comp_sites[co[s->sites[i].company]++] = i;
    for (int i = 0; i < s->ngroups; i++)
        s->site_groups[so[s->groups[i].site]++] = i;
    /* The fill loops advanced each offset to the next one's start: shift back. */
    memmove(co + 1, co, (size_t)s->ncompanies * sizeof(*co));
    co[0] = 0;
    memmove(so + 1, so, (size_t)s->nsites * sizeof(*so));
    so[0] = 0;
    s->index_stale = false;
}

int mining_reorder(struct mining_state *s, struct bt_err *err)
{
    struct mining_site *ns = malloc((size_t)(s->nsites ? s->nsites : 1) * sizeof(*ns));
    struct mining_group *ng = malloc((size_t)(s->ngroups ? s->ngroups : 1) * sizeof(*ng));
    int n = 0;

    if (!ns || !ng) {
        free(ns);
        free(ng);
        return err_internal(err, "mining: out of memory");
    }
    if (s->index_stale)
        build_index(s);
    for (int j = 0; j < s->nsites; j++) {
        int old = s->comp_sites[j];
        ns[j] = s->sites[old];
        for (int32_t k = s->site_group_off[old]; k < s->site_group_off[old + 1]; k++) {
            ng[n] = s->groups[s->site_groups[k]];
            ng[n++].site = j;
        }
    }
    memcpy(s->sites, ns, (size_t)s->nsites * sizeof(*ns));
    memcpy(s->groups, ng, (size_t)s->ngroups * sizeof(*ng));
    free(ns);
    free(ng);
    /* Existing keys only: the maps never grow here. */
    for (int i = 0; i < s->nsites; i++)
        idmap_put(s->site_ids, s->sites[i].id, i);
    for (int i = 0; i < s->ngroups; i++)
        idmap_put(s->group_ids, s->groups[i].id, i);
    s->index_stale = true;
    return BT_OK;
}

/* ---- the step ---- */

/* Per-tick constants of one (model, region, cooling, firmware). */
struct rigk {
    int64_t hash_ghs; /* per rig after firmware */
    int64_t power_mw; /* per rig after firmware, milliwatts */
    uint64_t k_q40;   /* failure probability per rig this tick at zero wear, x 2^40 */
};

struct step {
    struct mining_state *s;
    const struct mining_env *env;
    const int64_t *cash;
    int64_t wnew[MINING_NREGIONS][MINING_NCOOLING][MINING_NFIRMWARE];
    int32_t pue_eff[MINING_NREGIONS][MINING_NCOOLING];
    struct rigk *k; /* [model][region][cooling][firmware] */
    __int128 net_q; /* denominator of the yield: max(network GH/s, the players' GH/s) */
};

struct worker {
    struct step *st;
    int c0, c1;
    __int128 hq_sum;
};

static struct rigk *rigk_at(const struct step *st, int m, int r, int c, int f)
{
    return &st->k[((m * MINING_NREGIONS + r) * MINING_NCOOLING + c) * MINING_NFIRMWARE + f];
}

/* How much of the regional heat deviation reaches the rigs; never below half. */
static int64_t heat_factor(const struct mining_cooling_type *c, int64_t heat_ppm)
{
    int64_t h = MINING_PPM + (int64_t)c->heat_sens_ppm * (heat_ppm - MINING_PPM) / MINING_PPM;

    return h < MINING_PPM / 2 ? MINING_PPM / 2 : h;
}

static void step_prepare(struct step *st)
{
    const struct mining_state *s = st->s;
    const struct mining_catalog *cat = &s->cat;
    const struct mining_env *env = st->env;

    for (int r = 0; r < MINING_NREGIONS; r++)
        for (int c = 0; c < MINING_NCOOLING; c++) {
            const struct mining_cooling_type *ct = &cat->cooling[c];
            int64_t hf = heat_factor(ct, env->heat_ppm[r]);
            int64_t heat = env->heat_ppm[r] < 0 ? 0 : env->heat_ppm[r];
            st->pue_eff[r][c] =
                (int32_t)(MINING_PPM + (int64_t)(ct->pue_ppm - MINING_PPM) * heat / MINING_PPM);
            for (int f = 0; f < MINING_NFIRMWARE; f++) {
                struct mining_fw_factors ff;
                int64_t wf;
                mining_fw_factors(cat, f, c, &ff);
                wf = (int64_t)ct->wear_ppm * ff.wear_ppm / MINING_PPM * hf / MINING_PPM;
                st->wnew[r][c][f] = s->windex[r][c][f] + env->tick_secs * wf;
                for (int m = 0; m < cat->nmodels; m++) {
                    const struct mining_model *md = &cat->models[m];
                    struct rigk *k = rigk_at(st, m, r, c, f);
                    int64_t mult =
                        (int64_t)ff.hazard_ppm * ct->hazard_ppm / MINING_PPM * hf / MINING_PPM;
                    unsigned __int128 p =
                        (unsigned __int128)md->afr_ppm * env->tick_secs * mult * Q40 /
                        ((unsigned __int128)MINING_PPM * MINING_PPM * SECS_PER_YEAR);
                    k->hash_ghs = md->hash_ghs * ff.hash_ppm / MINING_PPM;
                    k->power_mw = md->power_w * ff.power_ppm / 1000;
                    k->k_q40 = p > Q40 ? Q40 : (uint64_t)p;
                }
            }
        }
}

/* Exact energy cost of one site running `run_ppm` of the tick, in units of
 * 1/(3.6e15) micro-USD per game second (multiply by tick_secs, divide by 3.6e15). */
static __int128 site_cost_num(const struct mining_site *site, const struct mining_site_result *r,
                              const struct mining_env *env, int64_t run_ppm)
{
    __int128 p = (__int128)r->fac_power_mw * run_ppm; /* mW x ppm */
    __int128 pc = 0;
    int64_t spot = env->spot_uusd_kwh[site->region];
    const struct mining_contract *c = &site->contract;

    if (c->kind != MINING_SPOT && c->start_tick <= env->tick && env->tick < c->end_tick) {
        __int128 cap = (__int128)c->capacity_w * 1000 * MINING_PPM;
        pc = p < cap ? p : cap;
        return pc * c->price_uusd_kwh + (p - pc) * spot;
    }
    return p * spot;
}

#define COST_DIV ((__int128)3600 * 1000 * 1000 * MINING_PPM) /* s/h, mW/W, W/kW, ppm */

static int64_t ceil_div(__int128 a, __int128 b)
{
    return (int64_t)((a + b - 1) / b);
}

static int64_t run_share(int64_t r, int64_t thr, bool up)
{
    return (r * thr + (up ? MINING_PPM - 1 : 0)) / MINING_PPM;
}

/* The company's exact energy cost at throttle `thr`, rounded up. */
static int64_t company_cost(const struct step *st, int c, int64_t thr)
{
    const struct mining_state *s = st->s;
    __int128 sum = 0;

    for (int32_t j = s->comp_site_off[c]; j < s->comp_site_off[c + 1]; j++) {
        int si = s->comp_sites[j];
        const struct mining_site_result *r = &s->site_res[si];
        sum += site_cost_num(&s->sites[si], r, st->env, run_share(r->run_ppm, thr, true));
    }
    return ceil_div(sum * st->env->tick_secs, COST_DIV);
}

/* Groups of one site: hashrate, power, wear and failure draws (no mutation). */
static void site_groups(struct step *st, int si)
{
    struct mining_state *s = st->s;
    const struct mining_env *env = st->env;
    struct mining_site *site = &s->sites[si];
    struct mining_site_result *r = &s->site_res[si];
    const int64_t *wold = s->windex[site->region][site->cooling];
    const int64_t *wnew = st->wnew[site->region][site->cooling];
    struct rng_key key = {env->seed, env->tick, RNG_FAILURE, 0};
    int64_t hash = 0, it_mw = 0, rigs = 0, wsum = 0, dsum = 0;
    int32_t fails = 0;

    for (int32_t j = s->site_group_off[si]; j < s->site_group_off[si + 1]; j++) {
        int gi = s->site_groups[j];
        const struct mining_group *g = &s->groups[gi];
        const struct mining_model *md = &s->cat.models[g->model];
        const struct rigk *k = rigk_at(st, g->model, site->region, site->cooling, g->firmware);
        int64_t w0 = wear_at(&s->cat, g, wold[g->firmware]);
        int64_t w1 = wear_at(&s->cat, g, wnew[g->firmware]);
        int64_t online = env->tick < g->maint_until ? 0 : g->count - g->failed;
        int32_t nf = 0;

        rigs += g->count;
        wsum += g->count * w1;
        dsum += g->count * (w1 - w0);
        if (online > 0) {
            int64_t per = mining_worn_hash_ghs(md, k->hash_ghs, w0);
            /* Failure rate grows with the square of wear up to the model's worn-out factor. */
            int64_t wf = MINING_PPM + ((int64_t)md->wear_hazard_ppm - MINING_PPM) *
                                          (w0 * w0 / MINING_PPM) / MINING_PPM;
            uint64_t wf_q20 = (uint64_t)wf * (1u << 20) / MINING_PPM;
            unsigned __int128 lam = ((unsigned __int128)online * k->k_q40 * wf_q20) >> 20;
            uint64_t whole = (uint64_t)(lam >> 40), frac = (uint64_t)lam & (Q40 - 1);

            hash += online * per;
            it_mw += online * k->power_mw;
            if (lam) {
                key.entity = (uint64_t)g->id;
                if ((rng_u64(&key, 0) >> 24) < frac)
                    whole++;
                nf = (int32_t)(whole > (uint64_t)online ? (uint64_t)online : whole);
            }
        }
        s->gfail[gi] = nf;
        fails += nf;
    }
    r->nominal_ghs = hash;
    r->it_power_mw = it_mw;
    r->failures = fails;
    r->wear_ppm = rigs ? (int32_t)(wsum / rigs) : 0;
    r->wear_delta_ppm = rigs ? (int32_t)(dsum / rigs) : 0;
}

/* Pass 1 for one company: sites, contracts, curtailment, throttling. */
static __int128 company_pass1(struct step *st, int c)
{
    struct mining_state *s = st->s;
    const struct mining_env *env = st->env;
    struct mining_company_result *cr = &s->company_res[c];
    __int128 hq = 0, cost_num = 0, credit_num = 0;
    int64_t thr = MINING_PPM;
    __int128 wnom = 0, wup = 0;

    memset(cr, 0, sizeof(*cr));
    for (int32_t j = s->comp_site_off[c]; j < s->comp_site_off[c + 1]; j++) {
        int si = s->comp_sites[j];
        struct mining_site *site = &s->sites[si];
        struct mining_site_result *r = &s->site_res[si];
        const struct mining_contract *ct = &site->contract;
        int64_t up = MINING_PPM - env->outage_ppm[site->region][site->tier - 1];
        int64_t fac, cap_mw = site->capacity_w * 1000;

        site_groups(st, si);
        r->credit_uusd = 0;
        r->curtailed = false;
        /* Facility power (mW, rounded up) with heat-dependent cooling overhead,
         * limited by the grid connection: past it, rigs are scaled down. */
        fac = (r->it_power_mw * st->pue_eff[site->region][site->cooling] + MINING_PPM - 1) /
              MINING_PPM;
        r->power_limit_ppm = MINING_PPM;
        r->hash_ghs = r->nominal_ghs;
        if (fac > cap_mw) {
            r->power_limit_ppm = (int32_t)((__int128)cap_mw * MINING_PPM / fac);
            r->hash_ghs = r->nominal_ghs * r->power_limit_ppm / MINING_PPM;
            fac = cap_mw;
        }
        r->fac_power_mw = fac;
        if (ct->kind == MINING_DEMAND_RESPONSE && ct->start_tick <= env->tick &&
            env->tick < ct->end_tick && env->spot_uusd_kwh[site->region] > ct->threshold_uusd_kwh) {
            __int128 covered = fac < ct->capacity_w * 1000 ? fac : ct->capacity_w * 1000;
            r->curtailed = true;
            credit_num = covered * up * ct->credit_uusd_kwh;
            r->credit_uusd = (int64_t)(credit_num * env->tick_secs / COST_DIV);
            cr->credit_uusd += r->credit_uusd;
            up = 0;
        }
        r->run_ppm = up;
        cost_num += site_cost_num(site, r, env, up);
    }
    /* Energy first, never more than the cash: find the largest throttle the
     * company can pay (the cost is monotone in the throttle; 0 costs 0). */
    cr->cost_uusd = ceil_div(cost_num * env->tick_secs, COST_DIV);
    if (st->cash && cr->cost_uusd > st->cash[c]) {
        int64_t lo = 0, hi = MINING_PPM;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo + 1) / 2;
            if (company_cost(st, c, mid) <= st->cash[c])
                lo = mid;
            else
                hi = mid - 1;
        }
        thr = lo;
        cr->cost_uusd = company_cost(st, c, thr);
    }
    cr->throttle_ppm = (int32_t)thr;
    for (int32_t j = s->comp_site_off[c]; j < s->comp_site_off[c + 1]; j++) {
        int si = s->comp_sites[j];
        struct mining_site_result *r = &s->site_res[si];
        int64_t fh = run_share(r->run_ppm, thr, false);
        __int128 p = (__int128)r->fac_power_mw * run_share(r->run_ppm, thr, true);

        r->uptime_ppm = (int32_t)fh;
        r->cost_uusd = ceil_div(
            site_cost_num(&s->sites[si], r, env, run_share(r->run_ppm, thr, true)) * env->tick_secs,
            COST_DIV);
        r->energy_wh = (int64_t)(p * env->tick_secs / ((__int128)3600 * 1000 * MINING_PPM));
        r->hash_ghs = r->hash_ghs * fh / MINING_PPM;
        hq += (__int128)r->hash_ghs;
        cr->hash_ghs += r->hash_ghs;
        cr->energy_wh += r->energy_wh;
        cr->failures += r->failures;
        wnom += r->nominal_ghs;
        wup += (__int128)r->nominal_ghs * fh;
    }
    cr->uptime_ppm = wnom ? (int32_t)(wup / wnom) : 0;
    return hq;
}

/* Pass 2 for one company: its yield, with the carried remainder. */
static void company_pass2(struct step *st, int c)
{
    struct mining_state *s = st->s;
    const struct mining_env *env = st->env;
    struct mining_company_result *cr = &s->company_res[c];
    /* nsat = GH/s / net GH/s x reward x blocks_milli / 1000 x 1e9 */
    __int128 mul = (__int128)env->reward_sats * env->blocks_milli * MINING_PPM;
    __int128 nsat = (__int128)cr->hash_ghs * mul / st->net_q + s->companies[c].rem_nsat;

    for (int32_t j = s->comp_site_off[c]; j < s->comp_site_off[c + 1]; j++) {
        struct mining_site_result *r = &s->site_res[s->comp_sites[j]];
        r->sats = (int64_t)((__int128)r->hash_ghs * mul / st->net_q / 1000000000);
    }
    cr->sats = (int64_t)(nsat / 1000000000);
    s->companies[c].rem_nsat = (int64_t)(nsat % 1000000000);
}

static void *worker_pass1(void *arg)
{
    struct worker *w = arg;

    w->hq_sum = 0;
    for (int c = w->c0; c < w->c1; c++)
        w->hq_sum += company_pass1(w->st, c);
    return NULL;
}

static void *worker_pass2(void *arg)
{
    struct worker *w = arg;

    for (int c = w->c0; c < w->c1; c++)
        company_pass2(w->st, c);
    return NULL;
}

/* Runs fn over the workers, on threads when there are several. */
static void run_workers(struct worker *w, int n, void *(*fn)(void *))
{
    pthread_t t[MINING_MAX_THREADS];
    bool started[MINING_MAX_THREADS] = {false};

    for (int i = 1; i < n; i++)
        started[i] = pthread_create(&t[i], NULL, fn, &w[i]) == 0;
    fn(&w[0]);
    for (int i = 1; i < n; i++) {
        if (started[i])
            pthread_join(t[i], NULL);
        else
            fn(&w[i]); /* could not start a thread: same work, on this one */
    }
}

/* Splits the companies into ranges with about the same number of groups. */
static int partition(const struct mining_state *s, struct worker *w, int threads)
{
    int64_t total = s->ngroups + s->nsites, per, acc = 0;
    int n = 0;

    if (threads < 1)
        threads = 1;
    if (threads > MINING_MAX_THREADS)
        threads = MINING_MAX_THREADS;
    per = total / threads + 1;
    w[0].c0 = 0;
    for (int c = 0; c < s->ncompanies; c++) {
        int32_t a = s->comp_site_off[c], b = s->comp_site_off[c + 1];
        acc += b - a;
        for (int32_t j = a; j < b; j++)
            acc += s->site_group_off[s->comp_sites[j] + 1] - s->site_group_off[s->comp_sites[j]];
        if (acc >= per * (n + 1) && n + 1 < threads) {
            w[n].c1 = c + 1;
            n++;
            w[n].c0 = c + 1;
        }
    }
    w[n].c1 = s->ncompanies;
    return n + 1;
}

static int cmp_failure(const void *a, const void *b)
{
    const struct mining_failure *x = a, *y = b;

    return (x->group_id > y->group_id) - (x->group_id < y->group_id);
}

static int env_check(const struct mining_env *env, struct bt_err *err)
{
    if (env->tick_secs <= 0 || env->tick_secs > 86400 || env->net_hash_ghs <= 0 ||
        env->blocks_milli < 0 || env->blocks_milli > 1000000 || env->reward_sats < 0 ||
        env->reward_sats > 100000000000LL)
        return err_internal(err, "mining: invalid environment at tick %lld", (long long)env->tick);
    for (int r = 0; r < MINING_NREGIONS; r++) {
        if (env->spot_uusd_kwh[r] < 0 || env->spot_uusd_kwh[r] > 100000000 ||
            env->heat_ppm[r] < 0 || env->heat_ppm[r] > 10 * MINING_PPM)
            return err_internal(err, "mining: invalid regional input at tick %lld",
                                (long long)env->tick);
        for (int t = 0; t < MINING_NTIERS; t++)
            if (env->outage_ppm[r][t] < 0 || env->outage_ppm[r][t] > MINING_PPM)
                return err_internal(err, "mining: invalid outage at tick %lld",
                                    (long long)env->tick);
    }
    return BT_OK;
}

int mining_step(struct mining_state *s, const struct mining_env *env, const int64_t *cash_uusd,
                int threads, struct bt_err *err)
{
    struct step st = {.s = s, .env = env, .cash = cash_uusd};
    struct worker w[MINING_MAX_THREADS];
    __int128 hq = 0;
    int nw, nf = 0, rc = BT_ERR;

    if (env_check(env, err) != BT_OK)
        return BT_ERR;
    for (int c = 0; cash_uusd && c < s->ncompanies; c++)
        if (cash_uusd[c] < 0)
            return err_internal(err, "mining: negative cash for company %lld",
                                (long long)s->companies[c].id);
    st.k = malloc((size_t)(s->cat.nmodels ? s->cat.nmodels : 1) * MINING_NREGIONS *
                  MINING_NCOOLING * MINING_NFIRMWARE * sizeof(*st.k));
    if (!st.k)
        return err_internal(err, "mining: out of memory");
    if (s->index_stale)
        build_index(s);
    step_prepare(&st);
    memset(w, 0, sizeof(w));
    nw = partition(s, w, threads);
    for (int i = 0; i < nw; i++)
        w[i].st = &st;
    run_workers(w, nw, worker_pass1);
    for (int i = 0; i < nw; i++)
        hq += w[i].hq_sum;
    /* Never pay out more than the whole reward, even if the world's network
     * hashrate were below the players' own. */
    st.net_q = env->net_hash_ghs > hq ? env->net_hash_ghs : hq;

    for (int i = 0; i < s->ngroups; i++)
        nf += s->gfail[i] > 0;
    if (nf > s->cap_failures) {
        void *p = realloc(s->failures, (size_t)nf * sizeof(*s->failures));
        if (!p) {
            err_internal(err, "mining: out of memory");
            goto out;
        }
        s->failures = p;
        s->cap_failures = nf;
    }

    /* From here on nothing can fail: commit the tick. */
    run_workers(w, nw, worker_pass2);
    s->nfailures = 0;
    for (int i = 0; i < s->ngroups; i++) {
        struct mining_group *g = &s->groups[i];
        if (s->gfail[i] <= 0)
            continue;
        g->failed += s->gfail[i];
        g->dirty = true;
        s->failures[s->nfailures++] =
            (struct mining_failure){s->sites[g->site].company_id, g->site_id, g->id, s->gfail[i]};
    }
    if (s->nfailures > 1)
        qsort(s->failures, (size_t)s->nfailures, sizeof(*s->failures), cmp_failure);
    for (int i = 0; i < s->nsites; i++) {
        s->sites[i].uptime_sum_ppm += s->site_res[i].uptime_ppm;
        s->sites[i].ticks_run++;
    }
    memcpy(s->windex, st.wnew, sizeof(s->windex));
    s->tick = env->tick;
    rc = BT_OK;
out:
    free(st.k);
    return rc;
}
