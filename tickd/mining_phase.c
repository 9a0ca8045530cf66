/*
 * mining_phase.c - the mining phase and the site intents that change rigs
 * and energy contracts (see mining_phase.h; the model is tickd/mining.h).
 *
 * The phase owns a struct mining_state (catalog, companies, sites, rig
 * groups, wear indexes) for the world.  Sites are created by the sites
 * phase (site.create); the mining phase adopts a new site in the same tick
 * (when a rig intent names it, or at the latest before its step), giving it
 * the capacity and slots of its grid tier and cooling (grid_tiers,
 * cooling_types: the one source of a site's shape; site_cost_parts is the
 * one source of its price).
 *
 * Each tick, after the world phase: the environment comes from the world
 * model (regional spot price, outages per grid tier, cooling load, network
 * hashrate, subsidy + fees, blocks this tick), each company's cash is its
 * USD balance, mining_step computes the tick, and the results are booked
 * through ledger_move: energy company -> energy sink (never more than the
 * cash: the step throttles a company that cannot pay), demand-response
 * credit and BTC issuance from the mining faucet.  The players' hashrate is
 * reported back to the world model (it enters the network at the next
 * tick).  Alerts: rig failures and outages that start on a company's site.
 *
 * Persisted (only what changed): wear indexes that moved, sites that
 * changed or ran below 100 % (a full-uptime tick is accrued on load, see
 * 0009), rig groups marked dirty, removed groups, contract changes, one
 * history element per company with a result (it carries the company's
 * yield remainder, which moves only then), what each company has due.
 */
#include "mining_phase.h"
#include "ledger.h"
#include "log.h"
#include "mining_db.h"
#include "pgarr.h"
#include "site.h"
#include "sites.h"
#include "world_phase.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ledger kinds of the mining postings.  They are accrued (ledger.h): the
 * history row of each tick carries the tick's amounts (energy_uusd,
 * credit_uusd, mined_sat); what is accrued and not settled after the tick
 * is in mining_due (0022), which is what tickd gives the ledger back at
 * load and what company_balances() adds to the settled balance. */
#define K_ENERGY "mining.energy"
#define K_CREDIT "mining.dr_credit"
#define K_REWARD "mining.reward"

struct ct_change {
    int64_t site_id, old_id;    /* old_id 0: nothing to end */
    struct mining_contract neu; /* neu.id 0: nothing to insert */
};

struct mphase {
    struct mining_state m;
    int64_t windex_saved[MINING_NREGIONS][MINING_NCOOLING][MINING_NFIRMWARE];
    int64_t *dels; /* groups removed this tick */
    int ndels, cap_dels;
    struct ct_change *cc; /* contract changes this tick, in order */
    int ncc, cap_cc;
    bool stepped; /* results of the last step are this tick's */
    bool out_known;
    bool out_prev[MINING_NREGIONS][MINING_NTIERS];
    int64_t catalog_version;     /* catalog_version of the catalog in use (0015); -1 after a
                                  * load: the next tick takes and logs the tables' */
    bool pruned_known;           /* history retention (persist_prune) */
    int64_t pruned, pruned_next; /* last pruned tick; after this tick's commit */
};

struct mining_state *mining_of(const struct tick_ctx *ctx)
{
    struct mphase *p = tick_state(ctx, &tick_phase_mining);

    return p ? &p->m : NULL;
}

static struct mphase *mphase_new(const struct mining_catalog *cat, struct bt_err *err)
{
    struct mphase *p = calloc(1, sizeof(*p));

    if (!p) {
        err_internal(err, "out of memory for the mining state");
        return NULL;
    }
    if (mining_init(&p->m, cat, err) != BT_OK) {
        free(p);
        return NULL;
    }
    return p;
}

static void mphase_free(void *state)
{
    struct mphase *p = state;

    if (!p)
        return;
    mining_free(&p->m);
    free(p->dels);
    free(p->cc);
    free(p);
}

static int grow(void **v, int *cap, int n, size_t size)
{
    if (n < *cap)
        return BT_OK;
    int nc = *cap ? *cap * 2 : 16;
    void *g = realloc(*v, (size_t)nc * size);
    if (!g)
        return BT_ERR;
    *v = g;
    *cap = nc;
    return BT_OK;
}

/* A company not loaded with the state starts with a remainder of 0, and
 * what mining_remainders holds for it is unknown (it may have mined before
 * a load that skipped it, having no site then): its first tick without a
 * result stores its remainder. */
static int ensure_company(struct mining_state *m, int64_t cid, struct bt_err *err)
{
    int c = mining_company_find(m, cid);

    if (c >= 0)
        return c;
    if ((c = mining_company_add(m, cid, 0, err)) >= 0)
        m->companies[c].rem_saved = -1;
    return c;
}

/* The mining index of an engine site, adopting it when new (capacity and
 * slots from the catalog).  BT_ERR on a site the catalog cannot represent. */
static int adopt_site(struct tick_ctx *ctx, struct mining_state *m, const struct site *st,
                      struct bt_err *err)
{
    struct mining_site ms;
    int si = mining_site_find(m, st->id), r = mining_region_parse(st->region),
        k = mining_cooling_parse(st->cooling);

    if (si >= 0)
        return si;
    if (r < 0 || k < 0 || st->grid_tier < 1 || st->grid_tier > MINING_NTIERS)
        return err_internal(err, "site %" PRId64 " has no mining shape", st->id);
    if (ensure_company(m, st->company_id, err) < 0)
        return BT_ERR;
    memset(&ms, 0, sizeof(ms));
    ms.id = st->id;
    ms.company_id = st->company_id;
    ms.region = (uint8_t)r;
    ms.tier = (uint8_t)st->grid_tier;
    ms.cooling = (uint8_t)k;
    ms.created_tick = ctx->tick;
    ms.dirty = true;
    return mining_site_add(m, &ms, err);
}

/* ---- load ---- */

/* Company ids per row of the history (mining_bucket_size(), 0018). */
#define HIST_BUCKET 64

DB_STMT(q_m_sites, "SELECT id, company_id, region, grid_tier, cooling_type, capacity_w, slots, "
                   "uptime_sum_ppm, ticks_run, uptime_tick, created_tick FROM sites "
                   "WHERE world_id = $1 ORDER BY company_id, id");
/* Each mining company's remainder: that of its history row at the loaded
 * tick $2 (it mined then), else the one stored when it stopped (0016); the
 * stored one too (what is in mining_remainders). */
DB_STMT(q_m_rem, "SELECT c.company_id, COALESCE(h.rem_nsat[c.company_id % mining_bucket_size() "
                 "+ 1], r.rem_nsat, 0), COALESCE(r.rem_nsat, 0) FROM (SELECT DISTINCT company_id "
                 "FROM sites WHERE world_id = $1) c LEFT JOIN mining_history_buckets h ON "
                 "h.world_id = $1 AND h.tick = $2 AND h.bucket = c.company_id / "
                 "mining_bucket_size() LEFT JOIN mining_remainders r ON r.company_id = "
                 "c.company_id ORDER BY 1");
/* What each company had accrued and not settled at the loaded tick
 * (mining_due, 0022: rows of the world's last tick). */
DB_STMT(q_m_unsettled,
        "SELECT d.bucket * mining_bucket_size() + u.k - 1, u.e, u.cr, u.s, d.tick = $2 FROM "
        "mining_due d, unnest(d.energy_uusd, d.credit_uusd, d.mined_sat) WITH ORDINALITY AS "
        "u(e, cr, s, k) WHERE d.world_id = $1 AND (u.e > 0 OR u.cr > 0 OR u.s > 0) ORDER BY 1");
DB_STMT(q_m_window, "SELECT mining_bucket_size(), to_regclass('mining_due') IS NOT NULL");
DB_STMT(q_m_contracts,
        "SELECT e.id, e.site_id, e.kind, e.price_uusd_kwh, e.capacity_w, e.start_tick, "
        "e.end_tick, e.threshold_uusd_kwh, e.credit_uusd_kwh FROM energy_contracts e JOIN sites s "
        "ON s.id = e.site_id WHERE s.world_id = $1 AND e.status = 'active'");
DB_STMT(q_m_rigs,
        "SELECT g.id, g.site_id, g.model, g.firmware, g.count, g.failed, g.wear0_ppm, "
        "g.windex0, g.installed_tick, g.maint_until FROM site_rigs g JOIN sites s "
        "ON s.id = g.site_id WHERE s.world_id = $1 ORDER BY s.company_id, g.site_id, g.id");
DB_STMT(q_m_windex,
        "SELECT region, cooling, firmware, value FROM mining_wear_index WHERE world_id = $1");

static int load_sites(struct tick_ctx *ctx, struct mining_state *m, const char *w,
                      struct bt_err *err)
{
    const char *p[1] = {w};
    PGresult *r = db_exec(ctx->db, ctx->arena, &q_m_sites, 1, p, err);
    int i;

    if (!r)
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        struct mining_site ms;
        int rg = mining_region_parse(db_str(r, i, 2)), k = mining_cooling_parse(db_str(r, i, 4));
        int64_t at = db_i64(r, i, 9), gap = at > 0 ? ctx->world->tick - at : 0;

        memset(&ms, 0, sizeof(ms));
        if (rg < 0 || k < 0 || gap < 0)
            return err_internal(err, "site %s cannot be loaded", db_str(r, i, 0));
        if (ensure_company(m, db_i64(r, i, 1), err) < 0)
            return BT_ERR;
        ms.id = db_i64(r, i, 0);
        ms.company_id = db_i64(r, i, 1);
        ms.region = (uint8_t)rg;
        ms.tier = (uint8_t)db_i64(r, i, 3);
        ms.cooling = (uint8_t)k;
        ms.capacity_w = db_i64(r, i, 5);
        ms.slots = (int32_t)db_i64(r, i, 6);
        /* Ticks since the row was written all ran at full uptime (0009). */
        ms.uptime_sum_ppm = db_i64(r, i, 7) + gap * MINING_PPM;
        ms.ticks_run = db_i64(r, i, 8) + gap;
        ms.created_tick = db_i64(r, i, 10);
        if (mining_site_add(m, &ms, err) < 0)
            return BT_ERR;
    }
    return BT_OK;
}

static int load_contracts(struct tick_ctx *ctx, struct mining_state *m, const char *w,
                          struct bt_err *err)
{
    const char *p[1] = {w};
    PGresult *r = db_exec(ctx->db, ctx->arena, &q_m_contracts, 1, p, err);
    int i;

    if (!r)
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        int si = mining_site_find(m, db_i64(r, i, 1)), k = mining_contract_parse(db_str(r, i, 2));
        if (si < 0 || k <= MINING_SPOT)
            return err_internal(err, "energy contract %s cannot be loaded", db_str(r, i, 0));
        m->sites[si].contract = (struct mining_contract){
            db_i64(r, i, 0), (uint8_t)k,      db_i64(r, i, 3), db_i64(r, i, 4),
            db_i64(r, i, 5), db_i64(r, i, 6), db_i64(r, i, 7), db_i64(r, i, 8)};
    }
    return BT_OK;
}

static int load_rigs(struct tick_ctx *ctx, struct mining_state *m, const char *w,
                     struct bt_err *err)
{
    const char *p[1] = {w};
    PGresult *r = db_exec(ctx->db, ctx->arena, &q_m_rigs, 1, p, err);
    int i;

    if (!r)
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        struct mining_group g;
        int mo = mining_model_find(&m->cat, db_str(r, i, 2)),
            fw = mining_firmware_parse(db_str(r, i, 3));
        if (mo < 0 || fw < 0)
            return err_internal(err, "rig group %s cannot be loaded", db_str(r, i, 0));
        memset(&g, 0, sizeof(g));
        g.id = db_i64(r, i, 0);
        g.site_id = db_i64(r, i, 1);
        g.model = (uint16_t)mo;
        g.firmware = (uint8_t)fw;
        g.count = (int32_t)db_i64(r, i, 4);
        g.failed = (int32_t)db_i64(r, i, 5);
        g.wear0_ppm = db_i64(r, i, 6);
        g.windex0 = db_i64(r, i, 7);
        g.installed_tick = db_i64(r, i, 8);
        g.maint_until = db_i64(r, i, 9);
        if (mining_group_add(m, &g, err) < 0)
            return BT_ERR;
    }
    return BT_OK;
}

/* The ledger was loaded with settled balances: give it back what was due
 * at the loaded tick (see book() and persist_companies()). */
static int restore_accruals(struct tick_ctx *ctx, const char *const *wt, struct bt_err *err)
{
    struct ledger *l = tick_state(ctx, &tick_phase_ledger);
    PGresult *r;
    int i;

    if (!(r = db_exec(ctx->db, ctx->arena, &q_m_window, 0, NULL, err)))
        return BT_ERR;
    if (PQntuples(r) != 1 || db_i64(r, 0, 0) != HIST_BUCKET)
        return err_internal(err,
                            "mining_bucket_size() (0018) is not %d: the history would be "
                            "written in the wrong places",
                            HIST_BUCKET);
    /* Without 0022 the readers would take the unsettled results from a
     * window of the history whose settlements this tickd no longer stores. */
    if (!db_bool(r, 0, 1))
        return err_internal(err, "migration 0022 (mining_due) is not applied: "
                                 "run the migrations before tickd");
    if (!(r = db_exec(ctx->db, ctx->arena, &q_m_unsettled, 2, wt, err)))
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        int64_t cid = db_i64(r, i, 0), e = db_i64(r, i, 1), cr = db_i64(r, i, 2),
                s = db_i64(r, i, 3);
        if (!db_bool(r, i, 4))
            return err_internal(err,
                                "mining_due of company %" PRId64 " is not of the world's "
                                "last tick",
                                cid);
        if ((e > 0 && ledger_restore_accrued(l, LEDGER_COMPANY, cid, LEDGER_ENERGY, 0, LEDGER_USD,
                                             e, K_ENERGY) != BT_OK) ||
            (cr > 0 && ledger_restore_accrued(l, LEDGER_MINING, 0, LEDGER_COMPANY, cid, LEDGER_USD,
                                              cr, K_CREDIT) != BT_OK) ||
            (s > 0 && ledger_restore_accrued(l, LEDGER_MINING, 0, LEDGER_COMPANY, cid, LEDGER_BTC,
                                             s, K_REWARD) != BT_OK))
            return err_internal(
                err, "unsettled mining results of company %" PRId64 " do not fit the ledger", cid);
    }
    return BT_OK;
}

DB_STMT(q_m_catver, "SELECT version FROM catalog_version");
DB_STMT(q_m_cat_take, "INSERT INTO catalog_applied (world_id, tick, version, catalog) "
                      "VALUES ($1, $2, $3, $4)");
DB_STMT(q_m_cat_replay, "SELECT version, catalog FROM catalog_applied WHERE world_id = $1 AND "
                        "tick = $2");

DB_STMT(q_m_cat_last, "SELECT catalog FROM catalog_applied WHERE world_id = $1 "
                      "ORDER BY tick DESC LIMIT 1");

static int catalog_of_json(const char *text, struct mining_catalog *cat, struct bt_err *err)
{
    struct json_object *j = json_tokener_parse(text);
    int rc = j ? mining_catalog_from_json(cat, j, err)
               : err_internal(err, "a catalog_applied row is not JSON");

    json_object_put(j);
    return rc;
}

/* The catalog the world's last ticks ran with: the one last logged for it,
 * else (never changed) the tables'.  An admin change since is taken, and
 * logged, by the next tick's input. */
static int load_catalog(struct tick_ctx *ctx, const char *w, struct mining_catalog *cat,
                        struct bt_err *err)
{
    const char *p[1] = {w};
    PGresult *r = db_exec(ctx->db, ctx->arena, &q_m_cat_last, 1, p, err);

    if (!r)
        return BT_ERR;
    if (PQntuples(r) == 1)
        return catalog_of_json(db_str(r, 0, 0), cat, err);
    return mining_catalog_load(ctx->db, ctx->arena, cat, err);
}

static int load(struct tick_ctx *ctx, void **state, struct bt_err *err)
{
    struct mining_catalog cat;
    struct mphase *p;
    struct mining_state *m;
    char w[24], t[24];
    const char *pw[2] = {w, t};
    PGresult *r;
    int i;

    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->world->tick);
    if (load_catalog(ctx, w, &cat, err) != BT_OK || !(p = mphase_new(&cat, err)))
        return BT_ERR;
    *state = p;
    /* Unknown: the first tick takes (and logs) the tables' catalog, so
     * every tick after a load has its catalog on record (0015). */
    p->catalog_version = -1;
    m = &p->m;
    if (!(r = db_exec(ctx->db, ctx->arena, &q_m_windex, 1, pw, err)))
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        int rg = mining_region_parse(db_str(r, i, 0)), k = mining_cooling_parse(db_str(r, i, 1)),
            f = mining_firmware_parse(db_str(r, i, 2));
        if (rg < 0 || k < 0 || f < 0)
            return err_internal(err, "bad mining wear index row %d", i);
        m->windex[rg][k][f] = db_i64(r, i, 3);
    }
    memcpy(p->windex_saved, m->windex, sizeof(m->windex));
    if (!(r = db_exec(ctx->db, ctx->arena, &q_m_rem, 2, pw, err)))
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        int c = mining_company_add(m, db_i64(r, i, 0), db_i64(r, i, 1), err);
        if (c < 0)
            return BT_ERR;
        m->companies[c].rem_saved = db_i64(r, i, 2);
    }
    if (load_sites(ctx, m, w, err) != BT_OK || load_contracts(ctx, m, w, err) != BT_OK ||
        load_rigs(ctx, m, w, err) != BT_OK)
        return BT_ERR;
    for (i = 0; i < m->nsites; i++)
        m->sites[i].dirty = false;
    m->tick = ctx->world->tick;
    return restore_accruals(ctx, pw, err);
}

/* ---- input: the admins' catalog changes (0015) ---- */

/* A newer catalog_version: the catalog is reloaded in the tick's
 * transaction and logged with the tick (catalog_applied); a replay applies
 * the logged one at the same tick.  Models are only ever appended, so the
 * installed rig groups keep their model. */
static int input(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct mphase *p = state;
    struct mining_catalog cat;
    struct json_object *j;
    char w[24], t[24], v[24];
    const char *q[4] = {w, t, v, NULL};
    int64_t version;
    PGresult *r;

    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    if (ctx->replay) {
        if (!(r = db_exec(ctx->db, ctx->arena, &q_m_cat_replay, 2, q, err)))
            return BT_ERR;
        if (PQntuples(r) == 0)
            return BT_OK;
        version = db_i64(r, 0, 0);
        if (catalog_of_json(db_str(r, 0, 1), &cat, err) != BT_OK)
            return BT_ERR;
    } else {
        if (!(r = db_exec(ctx->db, ctx->arena, &q_m_catver, 0, NULL, err)))
            return BT_ERR;
        if (PQntuples(r) != 1 || (version = db_i64(r, 0, 0)) == p->catalog_version)
            return BT_OK;
        if (mining_catalog_load(ctx->db, ctx->arena, &cat, err) != BT_OK)
            return BT_ERR;
        snprintf(v, sizeof(v), "%" PRId64, version);
        j = mining_catalog_to_json(&cat);
        q[3] = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
        r = db_exec(ctx->db, ctx->arena, &q_m_cat_take, 4, q, err);
        json_object_put(j);
        if (!r)
            return BT_ERR;
        log_msg(LOGL_INFO, NULL, "world %s: rig catalog version %" PRId64 " from tick %s", w,
                version, t);
    }
    if (cat.nmodels < p->m.cat.nmodels)
        return err_internal(err, "the rig catalog lost models (%d < %d)", cat.nmodels,
                            p->m.cat.nmodels);
    for (int i = 0; i < p->m.cat.nmodels; i++)
        if (strcmp(cat.models[i].id, p->m.cat.models[i].id) != 0)
            return err_internal(err, "rig model %d is %s, was %s", i, cat.models[i].id,
                                p->m.cat.models[i].id);
    p->m.cat = cat;
    p->catalog_version = version;
    return BT_OK;
}

/* ---- step ---- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void fill_env(const struct tick_ctx *ctx, const struct world_model *wm,
                     struct mining_env *env)
{
    memset(env, 0, sizeof(*env));
    env->seed = (uint64_t)ctx->world->seed;
    env->tick = ctx->tick;
    env->tick_secs = clamp64(wm->params[WP_GAME_SECONDS_PER_TICK], 1, 86400);
    env->net_hash_ghs = clamp64(world_model_network_hashrate_ths(wm), 1, INT64_MAX / 1000) * 1000;
    env->blocks_milli = clamp64(world_model_blocks_last_tick(wm), 0, 1000) * 1000;
    env->reward_sats =
        clamp64(world_model_subsidy_sats(wm) + world_model_block_fees_sats(wm), 0, 100000000000LL);
    for (int r = 0; r < MINING_NREGIONS; r++) {
        env->spot_uusd_kwh[r] = clamp64(world_model_energy_price_uusd(wm, r), 0, 100000000);
        env->heat_ppm[r] =
            (int32_t)clamp64(world_model_cooling_load_bp(wm, r) * 100, 0, 10 * MINING_PPM);
        for (int t = 0; t < MINING_NTIERS; t++)
            env->outage_ppm[r][t] = world_model_outage(wm, r, t + 1) ? MINING_PPM : 0;
    }
}

static bool active(const struct mining_company_result *cr)
{
    return cr->hash_ghs || cr->sats || cr->cost_uusd || cr->credit_uusd || cr->failures;
}

/* Books a company's results through the ledger. */
static int book(struct ledger *l, int64_t cid, const struct mining_company_result *cr,
                struct bt_err *err)
{
    char why[TICK_REASON_LEN];

    if (cr->cost_uusd > 0 && ledger_accrue(l, LEDGER_COMPANY, cid, LEDGER_ENERGY, 0, LEDGER_USD,
                                           cr->cost_uusd, K_ENERGY, why, sizeof(why)) != BT_OK)
        return err_internal(err, "energy of company %" PRId64 ": %s", cid, why);
    if (cr->credit_uusd > 0 && ledger_accrue(l, LEDGER_MINING, 0, LEDGER_COMPANY, cid, LEDGER_USD,
                                             cr->credit_uusd, K_CREDIT, why, sizeof(why)) != BT_OK)
        return err_internal(err, "demand-response credit of company %" PRId64 ": %s", cid, why);
    if (cr->sats > 0 && ledger_accrue(l, LEDGER_MINING, 0, LEDGER_COMPANY, cid, LEDGER_BTC,
                                      cr->sats, K_REWARD, why, sizeof(why)) != BT_OK)
        return err_internal(err, "mining reward of company %" PRId64 ": %s", cid, why);
    return BT_OK;
}

static void alert_failures(struct tick_ctx *ctx, const struct mining_state *m)
{
    for (int i = 0; i < m->nfailures; i++) {
        const struct mining_failure *f = &m->failures[i];
        struct json_object *d = json_object_new_object();
        json_object_object_add(d, "site_id", json_object_new_int64(f->site_id));
        json_object_object_add(d, "rig_id", json_object_new_int64(f->group_id));
        json_object_object_add(d, "count", json_object_new_int(f->count));
        tick_alert(ctx, f->company_id, "rig_failure", "warning", d);
    }
}

/* An alert per site whose region and tier lost the grid this tick. */
static void alert_outages(struct tick_ctx *ctx, struct mphase *p, const struct mining_env *env)
{
    bool now[MINING_NREGIONS][MINING_NTIERS], any = false;

    for (int r = 0; r < MINING_NREGIONS; r++)
        for (int t = 0; t < MINING_NTIERS; t++) {
            now[r][t] = env->outage_ppm[r][t] > 0;
            any |= now[r][t] && p->out_known && !p->out_prev[r][t];
        }
    for (int i = 0; any && i < p->m.nsites; i++) {
        const struct mining_site *st = &p->m.sites[i];
        struct json_object *d;
        if (!now[st->region][st->tier - 1] || p->out_prev[st->region][st->tier - 1])
            continue;
        d = json_object_new_object();
        json_object_object_add(d, "site_id", json_object_new_int64(st->id));
        json_object_object_add(d, "region", json_object_new_string(mining_region_name(st->region)));
        json_object_object_add(d, "grid_tier", json_object_new_int(st->tier));
        tick_alert(ctx, st->company_id, "grid_outage", "warning", d);
        tick_touch(ctx, st->company_id);
    }
    memcpy(p->out_prev, now, sizeof(now));
    p->out_known = true;
}

static int step(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct mphase *p = state;
    struct mining_state *m = &p->m;
    struct sites *ss = tick_state(ctx, &tick_phase_sites);
    struct ledger *l = tick_state(ctx, &tick_phase_ledger);
    struct world_model *wm = world_of(ctx);
    struct mining_env env;
    int64_t *cash, total = 0;
    int c;

    /* Sites built this tick that no rig intent adopted yet. */
    sites_settle(ss);
    for (size_t i = 0; ss->nnew && i < ss->n; i++)
        if (ss->v[i].is_new && adopt_site(ctx, m, &ss->v[i], err) < 0)
            return BT_ERR;
    fill_env(ctx, wm, &env);
    cash = arena_alloc(ctx->arena, (size_t)(m->ncompanies ? m->ncompanies : 1) * sizeof(*cash));
    if (!cash)
        return err_internal(err, "out of memory for mining cash");
    for (c = 0; c < m->ncompanies; c++) {
        int64_t b = ledger_balance(l, m->companies[c].id, LEDGER_USD);
        cash[c] = b > 0 ? b : 0;
    }
    if (mining_step(m, &env, cash, ctx->threads, err) != BT_OK)
        return BT_ERR;
    p->stepped = true;
    for (c = 0; c < m->ncompanies; c++) {
        const struct mining_company_result *cr = &m->company_res[c];
        total += cr->hash_ghs;
        if (!active(cr))
            continue;
        if (book(l, m->companies[c].id, cr, err) != BT_OK)
            return BT_ERR;
        tick_touch(ctx, m->companies[c].id);
    }
    world_model_set_player_hashrate(wm, total / 1000);
    alert_failures(ctx, m);
    alert_outages(ctx, p, &env);
    return BT_OK;
}

/* ---- persist ---- */

DB_STMT(q_m_windex_up,
        "INSERT INTO mining_wear_index (world_id, region, cooling, firmware, value) SELECT $1, * "
        "FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) ON CONFLICT (world_id, "
        "region, cooling, firmware) DO UPDATE SET value = EXCLUDED.value");
DB_STMT(q_m_sites_up,
        "UPDATE sites s SET capacity_w = u.cap, slots = u.sl, uptime_sum_ppm = u.us, "
        "ticks_run = u.tr, uptime_tick = $1 FROM unnest($2::bigint[], $3::bigint[], $4::int[], "
        "$5::bigint[], $6::bigint[]) AS u(id, cap, sl, us, tr) WHERE s.id = u.id");
DB_STMT(q_m_rigs_up,
        "INSERT INTO site_rigs (id, site_id, model, firmware, count, failed, wear0_ppm, windex0, "
        "installed_tick, maint_until) SELECT * FROM unnest($1::bigint[], $2::bigint[], "
        "$3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[], $8::bigint[], $9::bigint[], "
        "$10::bigint[]) ON CONFLICT (id) DO UPDATE SET firmware = EXCLUDED.firmware, count = "
        "EXCLUDED.count, failed = EXCLUDED.failed, wear0_ppm = EXCLUDED.wear0_ppm, windex0 = "
        "EXCLUDED.windex0, maint_until = EXCLUDED.maint_until");
DB_STMT(q_m_rigs_del, "DELETE FROM site_rigs WHERE id = ANY($1::bigint[])");
DB_STMT(q_m_ct_end, "UPDATE energy_contracts SET status = CASE WHEN end_tick <= $2 THEN "
                    "'expired' ELSE 'cancelled' END WHERE id = $1 AND status = 'active'");
DB_STMT(q_m_ct_new,
        "INSERT INTO energy_contracts (id, site_id, kind, price_uusd_kwh, capacity_w, start_tick, "
        "end_tick, threshold_uusd_kwh, credit_uusd_kwh) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
        "$9)");
static const char copy_hist[] =
    "COPY mining_history_buckets (world_id, tick, bucket, hash_ghs, mined_sat, energy_wh, "
    "energy_uusd, credit_uusd, uptime_ppm, throttle_ppm, failures, rem_nsat) FROM STDIN "
    "(FORMAT binary)";
static const char copy_due[] = "COPY mining_due (world_id, bucket, tick, energy_uusd, "
                               "credit_uusd, mined_sat) FROM STDIN (FORMAT binary)";

/* Retention (0012, 0016): the history of the ticks after the world's last
 * pruned tick, at most PRUNE_STEP of them and none newer than the tick
 * minus BT_HISTORY_TICKS, is deleted - whole ticks: a company's remainder
 * is kept in mining_remainders once it has no newer row, and what is due
 * is in the row of the last tick (0022), never pruned (BT_HISTORY_TICKS >=
 * 100).  The pruned tick moves on.
 * PRUNE_STEP > 1 catches up after a load or a lowered setting. */
#define PRUNE_STEP 2
DB_STMT(q_m_pruned, "SELECT tick FROM mining_history_pruned WHERE world_id = $1");
DB_STMT(q_m_prune,
        "WITH d AS (DELETE FROM mining_history_buckets WHERE world_id = $1 AND tick > $2 AND "
        "tick <= $3) "
        "INSERT INTO mining_history_pruned (world_id, tick) VALUES ($1, $3) ON CONFLICT "
        "(world_id) DO UPDATE SET tick = EXCLUDED.tick");

static int persist_prune(struct tick_ctx *ctx, struct mphase *p, const char *w, struct bt_err *err)
{
    char lo[24], hi[24];
    const char *pp[3] = {w, lo, hi};
    int64_t cut = ctx->tick - ctx->history_ticks, to;
    PGresult *r;

    if (cut <= 0)
        return BT_OK;
    if (!p->pruned_known) {
        if (!(r = db_exec(ctx->db, ctx->arena, &q_m_pruned, 1, pp, err)))
            return BT_ERR;
        p->pruned = PQntuples(r) == 1 ? db_i64(r, 0, 0) : -1;
        p->pruned_known = true;
    }
    to = p->pruned + PRUNE_STEP < cut ? p->pruned + PRUNE_STEP : cut;
    if (to <= p->pruned)
        return BT_OK;
    snprintf(lo, sizeof(lo), "%" PRId64, p->pruned);
    snprintf(hi, sizeof(hi), "%" PRId64, to);
    if (!db_exec(ctx->db, ctx->arena, &q_m_prune, 3, pp, err))
        return BT_ERR;
    p->pruned_next = to;
    return BT_OK;
}

static int persist_windex(struct tick_ctx *ctx, struct mphase *p, const char *w, struct bt_err *err)
{
    struct pgarr a[4];
    const char *pre[1] = {w};

    pgarr_init_n(a, 4);
    for (int r = 0; r < MINING_NREGIONS; r++)
        for (int k = 0; k < MINING_NCOOLING; k++)
            for (int f = 0; f < MINING_NFIRMWARE; f++) {
                if (p->m.windex[r][k][f] == p->windex_saved[r][k][f])
                    continue;
                pgarr_str(&a[0], mining_region_name(r));
                pgarr_str(&a[1], mining_cooling_name(k));
                pgarr_str(&a[2], mining_firmware_name(f));
                pgarr_i64(&a[3], p->m.windex[r][k][f]);
            }
    return pgarr_exec(ctx->db, ctx->arena, &q_m_windex_up, pre, 1, a, 4, err);
}

/* One history row per company with a result; it carries the remainder
 * (which moves only when the company hashed, i.e. had a result).  A company
 * without a result whose remainder is not the stored one (it stopped
 * mining) stores it in mining_remainders (0016). */
DB_STMT(q_m_rems, "INSERT INTO mining_remainders (company_id, world_id, tick, rem_nsat) "
                  "SELECT u.c, $1, $2, u.r FROM unnest($3::bigint[], $4::bigint[]) AS u(c, r) "
                  "ON CONFLICT (company_id) DO UPDATE SET tick = EXCLUDED.tick, rem_nsat = "
                  "EXCLUDED.rem_nsat");

static bool rem_changed(const struct mphase *p, int c)
{
    const struct mining_company *mc = &p->m.companies[c];

    return p->stepped && !active(&p->m.company_res[c]) && mc->rem_nsat != mc->rem_saved;
}

static int persist_remainders(struct tick_ctx *ctx, struct mphase *p, const char *w, const char *t,
                              struct bt_err *err)
{
    const struct mining_state *m = &p->m;
    struct pgarr a[2];
    const char *pre[2] = {w, t};

    pgarr_init_n(a, 2);
    for (int c = 0; c < m->ncompanies; c++)
        if (rem_changed(p, c)) {
            pgarr_i64(&a[0], m->companies[c].id);
            pgarr_i64(&a[1], m->companies[c].rem_nsat);
        }
    return pgarr_exec(ctx->db, ctx->arena, &q_m_rems, pre, 2, a, 2, err);
}

/* The tick's history (0018): the results of the companies that have one,
 * a row per bucket of HIST_BUCKET company ids, the company's element at
 * id % HIST_BUCKET + 1 of each column and NULL for the bucket's other ids,
 * sent with binary COPY.  mining_due (0022) the same way: what each company
 * has accrued and the ledger has not settled after this tick, the world's
 * rows replaced every tick. */
#define HIST_COLS 9
#define HIST_DUE  3

struct hist_ref {
    int64_t id;
    int c;
};

struct hist_bucket {
    int64_t bucket;
    int top, dtop;         /* elements in use (the highest slot + 1): results, due */
    bool has[HIST_BUCKET]; /* a result */
    bool due[HIST_BUCKET]; /* something due */
    int64_t v[HIST_COLS + HIST_DUE][HIST_BUCKET];
};

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const struct hist_ref *)a)->id, y = ((const struct hist_ref *)b)->id;

    return (x > y) - (x < y);
}

static void hist_flush(struct pgcopy *hist, struct pgcopy *due, int64_t w, int64_t t,
                       struct hist_bucket *b)
{
    static const int size[HIST_COLS] = {8, 8, 8, 8, 8, 4, 4, 4, 4};

    if (b->top) {
        pgcopy_row(hist, 3 + HIST_COLS);
        pgcopy_i64(hist, w);
        pgcopy_i64(hist, t);
        pgcopy_i64(hist, b->bucket);
        for (int k = 0; k < HIST_COLS; k++)
            pgcopy_array(hist, size[k], b->v[k], b->has, b->top);
    }
    if (b->dtop) {
        pgcopy_row(due, 3 + HIST_DUE);
        pgcopy_i64(due, w);
        pgcopy_i64(due, b->bucket);
        pgcopy_i64(due, t);
        for (int k = HIST_COLS; k < HIST_COLS + HIST_DUE; k++)
            pgcopy_array(due, 8, b->v[k], b->due, b->dtop);
    }
    memset(b->has, 0, sizeof(b->has));
    memset(b->due, 0, sizeof(b->due));
    b->top = b->dtop = 0;
}

/* What company cid has accrued and not settled after this tick: energy
 * paid, demand-response credit, reward (book()'s three keys). */
static bool company_due(const struct ledger *l, int64_t cid, int64_t due[HIST_DUE])
{
    due[0] = ledger_unsettled(l, LEDGER_COMPANY, cid, LEDGER_ENERGY, 0, LEDGER_USD, K_ENERGY);
    due[1] = ledger_unsettled(l, LEDGER_MINING, 0, LEDGER_COMPANY, cid, LEDGER_USD, K_CREDIT);
    due[2] = ledger_unsettled(l, LEDGER_MINING, 0, LEDGER_COMPANY, cid, LEDGER_BTC, K_REWARD);
    return due[0] || due[1] || due[2];
}

DB_STMT(q_m_due_clear, "DELETE FROM mining_due WHERE world_id = $1");

static int persist_companies(struct tick_ctx *ctx, struct mphase *p, const char *w,
                             struct bt_err *err)
{
    const struct mining_state *m = &p->m;
    const struct ledger *l = tick_state(ctx, &tick_phase_ledger);
    const char *pw[1] = {w};
    struct hist_ref *act;
    struct hist_bucket *b;
    struct pgcopy hist, due;
    int n = 0, rc;
    bool sorted = true;

    if (!p->stepped)
        return BT_OK;
    if (!db_exec(ctx->db, ctx->arena, &q_m_due_clear, 1, pw, err))
        return BT_ERR;
    if (m->ncompanies == 0)
        return BT_OK;
    act = malloc((size_t)m->ncompanies * sizeof(*act));
    b = calloc(1, sizeof(*b));
    if (!act || !b) {
        free(act);
        free(b);
        return err_internal(err, "mining history: out of memory");
    }
    for (int c = 0; c < m->ncompanies; c++) {
        int64_t d[HIST_DUE];
        if (active(&m->company_res[c]) || company_due(l, m->companies[c].id, d)) {
            act[n] = (struct hist_ref){m->companies[c].id, c};
            sorted = sorted && (n == 0 || act[n - 1].id < act[n].id);
            n++;
        }
    }
    if (!sorted) /* companies are appended as they appear; loaded in id order */
        qsort(act, (size_t)n, sizeof(*act), by_id);
    pgcopy_init(&hist);
    pgcopy_init(&due);
    for (int i = 0; i < n; i++) {
        const struct mining_company_result *cr = &m->company_res[act[i].c];
        int64_t row[HIST_COLS + HIST_DUE] = {
            cr->hash_ghs,     cr->sats,        cr->energy_wh,
            cr->cost_uusd,    cr->credit_uusd, cr->uptime_ppm,
            cr->throttle_ppm, cr->failures,    m->companies[act[i].c].rem_nsat};
        int slot = (int)(act[i].id % HIST_BUCKET);
        bool owes = company_due(l, act[i].id, &row[HIST_COLS]);

        if ((b->top || b->dtop) && act[i].id / HIST_BUCKET != b->bucket)
            hist_flush(&hist, &due, ctx->world->id, ctx->tick, b);
        b->bucket = act[i].id / HIST_BUCKET;
        for (int k = 0; k < HIST_COLS + HIST_DUE; k++)
            b->v[k][slot] = row[k];
        if (active(cr)) {
            b->has[slot] = true;
            b->top = slot + 1;
        }
        if (owes) {
            b->due[slot] = true;
            b->dtop = slot + 1;
        }
    }
    hist_flush(&hist, &due, ctx->world->id, ctx->tick, b);
    free(act);
    free(b);
    rc = pgcopy_exec(ctx->db, copy_hist, &hist, err);
    if (rc == BT_OK)
        rc = pgcopy_exec(ctx->db, copy_due, &due, err);
    else
        pgcopy_free(&due);
    return rc;
}

static int persist_sites(struct tick_ctx *ctx, struct mphase *p, const char *t, struct bt_err *err)
{
    const struct mining_state *m = &p->m;
    struct pgarr a[5];
    const char *pre[1] = {t};

    pgarr_init_n(a, 5);
    for (int i = 0; i < m->nsites; i++) {
        const struct mining_site *st = &m->sites[i];
        if (!st->dirty && (!p->stepped || m->site_res[i].uptime_ppm == MINING_PPM))
            continue;
        pgarr_i64(&a[0], st->id);
        pgarr_i64(&a[1], st->capacity_w);
        pgarr_i64(&a[2], st->slots);
        pgarr_i64(&a[3], st->uptime_sum_ppm);
        pgarr_i64(&a[4], st->ticks_run);
    }
    return pgarr_exec(ctx->db, ctx->arena, &q_m_sites_up, pre, 1, a, 5, err);
}

static int persist_rigs(struct tick_ctx *ctx, struct mphase *p, struct bt_err *err)
{
    const struct mining_state *m = &p->m;
    struct pgarr a[10], d;

    pgarr_init_n(a, 10);
    for (int i = 0; i < m->ngroups; i++) {
        const struct mining_group *g = &m->groups[i];
        if (!g->dirty)
            continue;
        pgarr_i64(&a[0], g->id);
        pgarr_i64(&a[1], g->site_id);
        pgarr_str(&a[2], m->cat.models[g->model].id);
        pgarr_str(&a[3], mining_firmware_name(g->firmware));
        pgarr_i64(&a[4], g->count);
        pgarr_i64(&a[5], g->failed);
        pgarr_i64(&a[6], g->wear0_ppm);
        pgarr_i64(&a[7], g->windex0);
        pgarr_i64(&a[8], g->installed_tick);
        pgarr_i64(&a[9], g->maint_until);
    }
    if (pgarr_exec(ctx->db, ctx->arena, &q_m_rigs_up, NULL, 0, a, 10, err) != BT_OK)
        return BT_ERR;
    pgarr_init(&d);
    for (int i = 0; i < p->ndels; i++)
        pgarr_i64(&d, p->dels[i]);
    return pgarr_exec(ctx->db, ctx->arena, &q_m_rigs_del, NULL, 0, &d, 1, err);
}

static int persist_contracts(struct tick_ctx *ctx, struct mphase *p, const char *t,
                             struct bt_err *err)
{
    for (int i = 0; i < p->ncc; i++) {
        const struct ct_change *c = &p->cc[i];
        char v[9][24];
        const char *q[9];
        if (c->old_id) {
            snprintf(v[0], sizeof(v[0]), "%" PRId64, c->old_id);
            q[0] = v[0], q[1] = t;
            if (!db_exec(ctx->db, ctx->arena, &q_m_ct_end, 2, q, err))
                return BT_ERR;
        }
        if (!c->neu.id)
            continue;
        snprintf(v[0], sizeof(v[0]), "%" PRId64, c->neu.id);
        snprintf(v[1], sizeof(v[1]), "%" PRId64, c->site_id);
        snprintf(v[2], sizeof(v[2]), "%s", mining_contract_name(c->neu.kind));
        snprintf(v[3], sizeof(v[3]), "%" PRId64, c->neu.price_uusd_kwh);
        snprintf(v[4], sizeof(v[4]), "%" PRId64, c->neu.capacity_w);
        snprintf(v[5], sizeof(v[5]), "%" PRId64, c->neu.start_tick);
        snprintf(v[6], sizeof(v[6]), "%" PRId64, c->neu.end_tick);
        snprintf(v[7], sizeof(v[7]), "%" PRId64, c->neu.threshold_uusd_kwh);
        snprintf(v[8], sizeof(v[8]), "%" PRId64, c->neu.credit_uusd_kwh);
        for (int k = 0; k < 9; k++)
            q[k] = v[k];
        if (!db_exec(ctx->db, ctx->arena, &q_m_ct_new, 9, q, err))
            return BT_ERR;
    }
    return BT_OK;
}

static int persist(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct mphase *p = state;
    char w[24], t[24];

    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    if (persist_windex(ctx, p, w, err) != BT_OK || persist_sites(ctx, p, t, err) != BT_OK ||
        persist_companies(ctx, p, w, err) != BT_OK ||
        persist_remainders(ctx, p, w, t, err) != BT_OK || persist_rigs(ctx, p, err) != BT_OK ||
        persist_contracts(ctx, p, t, err) != BT_OK || persist_prune(ctx, p, w, err) != BT_OK)
        return BT_ERR;
    return BT_OK;
}

static void commit(struct tick_ctx *ctx, void *state)
{
    struct mphase *p = state;
    struct mining_state *m = &p->m;

    BT_UNUSED(ctx);
    for (int i = 0; i < m->nsites; i++)
        m->sites[i].dirty = false;
    for (int i = 0; i < m->ngroups; i++)
        m->groups[i].dirty = false;
    memcpy(p->windex_saved, m->windex, sizeof(m->windex));
    for (int c = 0; c < m->ncompanies; c++)
        if (rem_changed(p, c))
            m->companies[c].rem_saved = m->companies[c].rem_nsat;
    p->ndels = p->ncc = 0;
    if (p->pruned_next > p->pruned)
        p->pruned = p->pruned_next;
}

/* ---- hash, payloads, snapshots ---- */

static void hash(const void *state, crypto_generichash_state *h)
{
    mining_hash(&((const struct mphase *)state)->m, h);
}

static void company(const void *state, int64_t company_id, struct json_object *payload)
{
    const struct mphase *p = state;
    const struct mining_company_result *cr;
    struct json_object *o;
    int c = mining_company_find(&p->m, company_id);

    if (c < 0 || !p->stepped)
        return;
    cr = &p->m.company_res[c];
    o = json_object_new_object();
    json_object_object_add(o, "hashrate_ghs", json_object_new_int64(cr->hash_ghs));
    json_object_object_add(o, "mined_sat", json_object_new_int64(cr->sats));
    json_object_object_add(o, "energy_paid_usd_micro", json_object_new_int64(cr->cost_uusd));
    json_object_object_add(o, "energy_wh", json_object_new_int64(cr->energy_wh));
    json_object_object_add(o, "credit_usd_micro", json_object_new_int64(cr->credit_uusd));
    json_object_object_add(o, "uptime_ppm", json_object_new_int(cr->uptime_ppm));
    json_object_object_add(o, "throttle_ppm", json_object_new_int(cr->throttle_ppm));
    json_object_object_add(o, "failures", json_object_new_int(cr->failures));
    json_object_object_add(payload, "mining", o);
}

static struct json_object *to_json(const void *state)
{
    const struct mphase *p = state;
    struct json_object *j = json_object_new_object();

    json_object_object_add(j, "catalog", mining_catalog_to_json(&p->m.cat));
    json_object_object_add(j, "catalog_version", json_object_new_int64(p->catalog_version));
    json_object_object_add(j, "state", mining_to_json(&p->m));
    return j;
}

static int from_json(struct tick_ctx *ctx, void **state, struct json_object *j, struct bt_err *err)
{
    struct mining_catalog cat;
    struct json_object *jc, *js, *jv;
    struct mphase *p;

    BT_UNUSED(ctx);
    if (!json_object_object_get_ex(j, "catalog", &jc) ||
        !json_object_object_get_ex(j, "state", &js))
        return err_internal(err, "bad mining snapshot");
    if (mining_catalog_from_json(&cat, jc, err) != BT_OK || !(p = mphase_new(&cat, err)))
        return BT_ERR;
    *state = p;
    /* Older snapshots have none: -1 makes a live tick take the current one. */
    p->catalog_version =
        json_object_object_get_ex(j, "catalog_version", &jv) ? json_object_get_int64(jv) : -1;
    if (mining_from_json(&p->m, js, err) != BT_OK)
        return BT_ERR;
    memcpy(p->windex_saved, p->m.windex, sizeof(p->m.windex));
    return BT_OK;
}

const struct tick_phase tick_phase_mining = {
    .name = "mining",
    .load = load,
    .input = input,
    .step = step,
    .persist = persist,
    .commit = commit,
    .hash = hash,
    .company = company,
    .to_json = to_json,
    .from_json = from_json,
    .free = mphase_free,
};

/* ---- intents ---- */

/* Validates args with the handler's rule table; writes why on failure. */
static bool args_ok(const struct tick_intent *in, const struct valid_rule *rules, void *out,
                    char *reason, size_t n)
{
    struct bt_err verr;

    err_clear(&verr);
    if (valid_object(in->args, rules, out, 0, &verr) == BT_OK)
        return true;
    snprintf(reason, n, "invalid %s: %s", verr.nfields ? verr.fields[0].field : "arguments",
             verr.nfields ? verr.fields[0].message : verr.detail);
    return false;
}

static int refuse(enum mining_reason r, char *reason, size_t n)
{
    snprintf(reason, n, "%s: %s", mining_reason_code(r), mining_reason_text(r));
    return BT_ERR;
}

/* The caller's site (adopted into the mining state), or -1 with a reason:
 * another company's site is "no such site", as in the handlers. */
static int own_site(struct tick_ctx *ctx, struct mphase *p, const struct tick_intent *in,
                    int64_t site_id, char *reason, size_t n)
{
    const struct site *st = sites_find(tick_state(ctx, &tick_phase_sites), in->company_id, site_id);
    struct bt_err e;
    int si;

    err_clear(&e);
    if (!st) {
        snprintf(reason, n, "no such site");
        return -1;
    }
    if ((si = adopt_site(ctx, &p->m, st, &e)) < 0)
        snprintf(reason, n, "site cannot be used: %s", e.detail);
    return si;
}

/* The group `rig_id` of site si, or -1 with a reason. */
static int own_group(const struct mphase *p, int si, int64_t rig_id, char *reason, size_t n)
{
    int gi = mining_group_find(&p->m, rig_id);

    if (gi < 0 || p->m.groups[gi].site_id != p->m.sites[si].id) {
        snprintf(reason, n, "no such rig group on this site");
        return -1;
    }
    return gi;
}

static int64_t cash_of(struct tick_ctx *ctx, int64_t cid)
{
    int64_t b = ledger_balance(tick_state(ctx, &tick_phase_ledger), cid, LEDGER_USD);

    return b > 0 ? b : 0;
}

static int pay(struct tick_ctx *ctx, const struct tick_intent *in, int64_t cost, const char *kind,
               char *reason, size_t n)
{
    if (cost <= 0)
        return BT_OK;
    return ledger_move(tick_state(ctx, &tick_phase_ledger), LEDGER_COMPANY, in->company_id,
                       LEDGER_PURCHASES, 0, LEDGER_USD, cost, kind, in->id, reason, n);
}

static int apply_rig_add(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct mphase *p = tick_state(ctx, &tick_phase_mining);
    struct site_rig_add_in a = {0};
    struct mining_site_use use;
    struct mining_group g;
    struct bt_err e;
    enum mining_reason why;
    int64_t cost;
    int si, gi;

    if (!args_ok(in, site_rig_add_rules, &a, reason, n) ||
        (si = own_site(ctx, p, in, a.site_id, reason, n)) < 0)
        return BT_ERR;
    mining_site_use(&p->m, si, &use);
    why = mining_check_rig_add(&p->m.cat, p->m.sites[si].cooling, p->m.sites[si].capacity_w,
                               p->m.sites[si].slots, &use, a.model, a.count,
                               cash_of(ctx, in->company_id), &cost);
    if (why != MINING_OK)
        return refuse(why, reason, n);
    memset(&g, 0, sizeof(g));
    g.id = in->id;
    g.site_id = a.site_id;
    g.model = (uint16_t)mining_model_find(&p->m.cat, a.model);
    g.firmware = MINING_STOCK;
    g.count = (int32_t)a.count;
    g.windex0 = -1; /* anchored at the current wear index */
    g.installed_tick = ctx->tick;
    g.dirty = true;
    err_clear(&e);
    if ((gi = mining_group_add(&p->m, &g, &e)) < 0) {
        snprintf(reason, n, "rigs cannot be stored: %s", e.detail);
        return BT_ERR;
    }
    if (pay(ctx, in, cost, "rig.buy", reason, n) != BT_OK) {
        mining_group_remove(&p->m, gi, g.count);
        return BT_ERR;
    }
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

static int apply_rig_remove(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct mphase *p = tick_state(ctx, &tick_phase_mining);
    struct site_rig_remove_in a = {0};
    int si, gi;

    if (!args_ok(in, site_rig_remove_rules, &a, reason, n) ||
        (si = own_site(ctx, p, in, a.site_id, reason, n)) < 0 ||
        (gi = own_group(p, si, a.rig_id, reason, n)) < 0)
        return BT_ERR;
    if (a.count > p->m.groups[gi].count)
        return refuse(MINING_BAD_COUNT, reason, n);
    if (a.count == p->m.groups[gi].count) {
        if (grow((void **)&p->dels, &p->cap_dels, p->ndels, sizeof(*p->dels)) != BT_OK) {
            snprintf(reason, n, "out of memory");
            return BT_ERR;
        }
        p->dels[p->ndels++] = a.rig_id;
    }
    mining_group_remove(&p->m, gi, (int32_t)a.count);
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

static int apply_rig_firmware(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct mphase *p = tick_state(ctx, &tick_phase_mining);
    struct site_rig_firmware_in a = {0};
    struct mining_site_use use;
    const struct mining_group *g;
    enum mining_reason why;
    int si, gi;

    if (!args_ok(in, site_rig_firmware_rules, &a, reason, n) ||
        (si = own_site(ctx, p, in, a.site_id, reason, n)) < 0 ||
        (gi = own_group(p, si, a.rig_id, reason, n)) < 0)
        return BT_ERR;
    g = &p->m.groups[gi];
    mining_site_use(&p->m, si, &use);
    why = mining_check_firmware(&p->m.cat, p->m.sites[si].cooling, p->m.sites[si].capacity_w, &use,
                                g->model, g->count, g->firmware, a.firmware);
    if (why != MINING_OK)
        return refuse(why, reason, n);
    mining_group_set_firmware(&p->m, gi, mining_firmware_parse(a.firmware));
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

static int apply_maintenance(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct mphase *p = tick_state(ctx, &tick_phase_mining);
    struct world_model *wm = world_of(ctx);
    struct site_maintenance_in a = {0};
    int64_t total = 0, cash = cash_of(ctx, in->company_id), ticks;
    int si, gi = -1, todo = 0;

    if (!args_ok(in, site_maintenance_rules, &a, reason, n) ||
        (si = own_site(ctx, p, in, a.site_id, reason, n)) < 0 ||
        (a.rig_id && (gi = own_group(p, si, a.rig_id, reason, n)) < 0))
        return BT_ERR;
    /* Price every group that needs it first: all or nothing. */
    for (int i = 0; i < p->m.ngroups; i++) {
        const struct mining_group *g = &p->m.groups[i];
        int64_t cost;
        if (g->site != si || (gi >= 0 && i != gi))
            continue;
        if (mining_check_maintenance(&p->m.cat, g->model, g->count, g->failed,
                                     mining_group_wear(&p->m, g), INT64_MAX,
                                     &cost) == MINING_NOTHING_TO_DO)
            continue;
        total += cost;
        todo++;
    }
    if (todo == 0)
        return refuse(MINING_NOTHING_TO_DO, reason, n);
    if (total > cash)
        return refuse(MINING_NO_CASH, reason, n);
    if (pay(ctx, in, total, "site.maintenance", reason, n) != BT_OK)
        return BT_ERR;
    ticks = mining_maintenance_ticks(&p->m.cat, wm->params[WP_GAME_SECONDS_PER_TICK]);
    for (int i = 0; i < p->m.ngroups; i++) {
        const struct mining_group *g = &p->m.groups[i];
        if (g->site != si || (gi >= 0 && i != gi) ||
            (g->failed == 0 && mining_group_wear(&p->m, g) == 0))
            continue;
        mining_group_maintain(&p->m, i, ctx->tick, ticks);
    }
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

static int record_contract(struct mphase *p, int si, const struct mining_contract *neu,
                           char *reason, size_t n)
{
    if (grow((void **)&p->cc, &p->cap_cc, p->ncc, sizeof(*p->cc)) != BT_OK) {
        snprintf(reason, n, "out of memory");
        return BT_ERR;
    }
    p->cc[p->ncc++] = (struct ct_change){p->m.sites[si].id, p->m.sites[si].contract.id, *neu};
    mining_site_set_contract(&p->m, si, neu);
    return BT_OK;
}

static int apply_contract(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct mphase *p = tick_state(ctx, &tick_phase_mining);
    struct site_contract_in a = {0};
    struct mining_contract c;
    enum mining_reason why;
    int si;

    if (!args_ok(in, site_contract_rules, &a, reason, n) ||
        (si = own_site(ctx, p, in, a.site_id, reason, n)) < 0)
        return BT_ERR;
    why = mining_contract_quote(&p->m.cat, a.kind,
                                world_model_energy_price_uusd(world_of(ctx), p->m.sites[si].region),
                                p->m.sites[si].capacity_w, ctx->tick, a.ticks, &c);
    if (why != MINING_OK)
        return refuse(why, reason, n);
    c.id = in->id;
    if (record_contract(p, si, &c, reason, n) != BT_OK)
        return BT_ERR;
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

static int apply_cancel(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t n)
{
    struct mphase *p = tick_state(ctx, &tick_phase_mining);
    struct site_cancel_in a = {0};
    struct mining_contract spot;
    int si;

    if (!args_ok(in, site_cancel_rules, &a, reason, n) ||
        (si = own_site(ctx, p, in, a.site_id, reason, n)) < 0)
        return BT_ERR;
    if (p->m.sites[si].contract.id == 0 || p->m.sites[si].contract.end_tick <= ctx->tick)
        return refuse(MINING_NOTHING_TO_DO, reason, n);
    memset(&spot, 0, sizeof(spot));
    spot.kind = MINING_SPOT;
    if (record_contract(p, si, &spot, reason, n) != BT_OK)
        return BT_ERR;
    tick_touch(ctx, in->company_id);
    return BT_OK;
}

const struct intent_kind intent_site_rig_add = {"site.rig.add", apply_rig_add};
const struct intent_kind intent_site_rig_remove = {"site.rig.remove", apply_rig_remove};
const struct intent_kind intent_site_rig_firmware = {"site.rig.firmware", apply_rig_firmware};
const struct intent_kind intent_site_maintenance = {"site.maintenance", apply_maintenance};
const struct intent_kind intent_site_energy_contract = {"site.energy.contract", apply_contract};
const struct intent_kind intent_site_energy_cancel = {"site.energy.cancel", apply_cancel};
