/*
 * mining_db.c - mining_catalog_load (see mining_db.h).
 *
 * Starts from the built-in defaults (mining_catalog_default) and overwrites
 * every table it reads, so a field the database does not carry keeps its
 * default (nominal heat).  A row that does not fit the struct (an unknown
 * cooling or kind, a model position out of order) is an error: a catalog
 * that tickd cannot represent exactly must not be half-loaded.
 */
#include "mining_db.h"

#include <stdio.h>
#include <string.h>

DB_STMT(q_models, "SELECT position, id, name, year, hash_ghs, power_w, price_uusd, lifetime_days, "
                  "afr_ppm, wear_hazard_ppm, wear_loss_ppm, array_to_string(cooling, ','), "
                  "NOT available FROM rig_models ORDER BY position");
DB_STMT(q_cooling, "SELECT id, pue_ppm, wear_ppm, hazard_ppm, heat_sens_ppm, oc_headroom_ppm, "
                   "slots_per_mw FROM cooling_types");
DB_STMT(q_tiers, "SELECT tier, capacity_kw, outage_mult_ppm FROM grid_tiers");
DB_STMT(q_kinds, "SELECT id, price_ppm, threshold_ppm, credit_ppm, min_ticks, max_ticks "
                 "FROM energy_contract_kinds");
DB_STMT(q_params, "SELECT maint_service_ppm, maint_repair_ppm, maint_restore_ppm, "
                  "maint_downtime_secs FROM mining_params");

static int cooling_mask(const char *list, uint8_t *mask)
{
    char buf[64], *save = NULL, *t;

    *mask = 0;
    if (strlen(list) >= sizeof(buf))
        return BT_ERR;
    snprintf(buf, sizeof(buf), "%s", list);
    for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = mining_cooling_parse(t);
        if (k < 0)
            return BT_ERR;
        *mask |= (uint8_t)(1u << k);
    }
    return *mask ? BT_OK : BT_ERR;
}

static int load_models(struct db *db, struct arena *a, struct mining_catalog *c, struct bt_err *err)
{
    PGresult *r = db_exec(db, a, &q_models, 0, NULL, err);
    int i;

    if (!r)
        return BT_ERR;
    if (PQntuples(r) > MINING_MAX_MODELS)
        return err_internal(err, "rig_models: more than %d models", MINING_MAX_MODELS);
    c->nmodels = PQntuples(r);
    for (i = 0; i < c->nmodels; i++) {
        struct mining_model *m = &c->models[i];
        memset(m, 0, sizeof(*m));
        if (db_i64(r, i, 0) != i || strlen(db_str(r, i, 1)) >= sizeof(m->id) ||
            strlen(db_str(r, i, 2)) >= sizeof(m->name) ||
            cooling_mask(db_str(r, i, 11), &m->cooling_mask) != BT_OK)
            return err_internal(err, "rig_models: row %d does not fit the catalog", i);
        snprintf(m->id, sizeof(m->id), "%s", db_str(r, i, 1));
        snprintf(m->name, sizeof(m->name), "%s", db_str(r, i, 2));
        m->year = (int32_t)db_i64(r, i, 3);
        m->hash_ghs = db_i64(r, i, 4);
        m->power_w = db_i64(r, i, 5);
        m->price_uusd = db_i64(r, i, 6);
        m->lifetime_days = (int32_t)db_i64(r, i, 7);
        m->afr_ppm = (int32_t)db_i64(r, i, 8);
        m->wear_hazard_ppm = (int32_t)db_i64(r, i, 9);
        m->wear_loss_ppm = (int32_t)db_i64(r, i, 10);
        m->retired = db_bool(r, i, 12);
    }
    return BT_OK;
}

int mining_catalog_load(struct db *db, struct arena *a, struct mining_catalog *c,
                        struct bt_err *err)
{
    PGresult *r;
    int i;

    mining_catalog_default(c);
    if (load_models(db, a, c, err) != BT_OK)
        return BT_ERR;
    if (!(r = db_exec(db, a, &q_cooling, 0, NULL, err)))
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        int k = mining_cooling_parse(db_str(r, i, 0));
        struct mining_cooling_type *t;
        if (k < 0)
            return err_internal(err, "cooling_types: unknown %s", db_str(r, i, 0));
        t = &c->cooling[k];
        t->pue_ppm = (int32_t)db_i64(r, i, 1);
        t->wear_ppm = (int32_t)db_i64(r, i, 2);
        t->hazard_ppm = (int32_t)db_i64(r, i, 3);
        t->heat_sens_ppm = (int32_t)db_i64(r, i, 4);
        t->oc_headroom_ppm = (int32_t)db_i64(r, i, 5);
        t->slots_per_mw = (int32_t)db_i64(r, i, 6);
    }
    if (!(r = db_exec(db, a, &q_tiers, 0, NULL, err)))
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        long long t = db_i64(r, i, 0);
        if (t < 1 || t > MINING_NTIERS)
            return err_internal(err, "grid_tiers: tier %lld", t);
        c->tiers[t - 1].capacity_kw = db_i64(r, i, 1);
        c->tiers[t - 1].outage_mult_ppm = (int32_t)db_i64(r, i, 2);
    }
    if (!(r = db_exec(db, a, &q_kinds, 0, NULL, err)))
        return BT_ERR;
    for (i = 0; i < PQntuples(r); i++) {
        int k = mining_contract_parse(db_str(r, i, 0));
        if (k < 0)
            return err_internal(err, "energy_contract_kinds: unknown %s", db_str(r, i, 0));
        c->terms[k] = (struct mining_contract_terms){
            (int32_t)db_i64(r, i, 1), (int32_t)db_i64(r, i, 2), (int32_t)db_i64(r, i, 3),
            db_i64(r, i, 4), db_i64(r, i, 5)};
    }
    if (!(r = db_exec(db, a, &q_params, 0, NULL, err)))
        return BT_ERR;
    if (PQntuples(r) == 1) {
        c->maint_service_ppm = (int32_t)db_i64(r, 0, 0);
        c->maint_repair_ppm = (int32_t)db_i64(r, 0, 1);
        c->maint_restore_ppm = (int32_t)db_i64(r, 0, 2);
        c->maint_downtime_secs = db_i64(r, 0, 3);
    }
    return BT_OK;
}
