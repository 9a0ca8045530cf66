/*
 * tick.c - the tick loop over the phase registry (see tick.h).
 *
 * This file knows nothing about any game feature: it orders the phases,
 * owns the transaction, the fence check, the snapshot row and publishing.
 * It must never publish before COMMIT returned, and never keep in-memory
 * state that a failed tick may have touched: on any failure the world's
 * state is freed and reloaded from PostgreSQL before its next tick.
 */
#include "tick.h"
#include "log.h"
#include "outbox.h"
#include "presence.h"
#include "rng.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

DB_STMT(q_world, "SELECT tick, seed, tick_ms, name FROM worlds WHERE id = $1");
DB_STMT(q_advance,
        "UPDATE worlds SET tick = tick + 1, last_tick_at = clock_timestamp(), fence = $2 "
        "WHERE id = $1 AND status = 'running' AND fence <= $2 RETURNING tick, tick_ms, "
        "to_char(last_tick_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
DB_STMT(q_why, "SELECT status, fence FROM worlds WHERE id = $1");
DB_STMT(q_record, "INSERT INTO ticks (world_id, tick, started_at, duration_us, lateness_us) "
                  "VALUES ($1, $2, to_timestamp($3::double precision / 1e6), $4, $5)");
DB_STMT(q_snapshot,
        "INSERT INTO tick_snapshots (world_id, tick, inputs_hash, state_hash, intents, full_state) "
        "VALUES ($1, $2, decode($3, 'hex'), decode($4, 'hex'), $5, $6::json)");

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void tick_metrics_init(struct tick_metrics *tm, struct metrics *m, int64_t world_id)
{
    char l[64];

    snprintf(l, sizeof(l), "world=\"%" PRId64 "\"", world_id);
    metrics_histogram(m, "bt_tick_duration_seconds", l, &tm->total);
    metrics_histogram(m, "bt_tick_compute_seconds", l, &tm->compute);
    metrics_histogram(m, "bt_tick_commit_seconds", l, &tm->commit);
    metrics_histogram(m, "bt_tick_publish_seconds", l, &tm->publish);
    metrics_histogram(m, "bt_tick_start_lateness_seconds", l, &tm->lateness);
    tm->ticks = metrics_counter(m, "bt_ticks_total", l);
    tm->overruns = metrics_counter(m, "bt_tick_overruns_total", l);
    tm->skipped = metrics_counter(m, "bt_tick_skipped_slots_total", l);
    tm->failures = metrics_counter(m, "bt_tick_failures_total", l);
    tm->current_tick = metrics_gauge(m, "bt_tick_current", l);
    tm->applied = metrics_counter(m, "bt_intents_applied_total", l);
    tm->rejected = metrics_counter(m, "bt_intents_rejected_total", l);
}

/* ---- registries ---- */

const struct intent_kind *tick_intent_kind(const char *name)
{
    size_t i;

    for (i = 0; i < intent_nkinds; i++)
        if (strcmp(intent_kinds[i]->name, name) == 0)
            return intent_kinds[i];
    return NULL;
}

void *tick_state(const struct tick_ctx *ctx, const struct tick_phase *phase)
{
    size_t i;

    for (i = 0; i < tick_nphases; i++)
        if (tick_phases[i] == phase)
            return ctx->world->state[i];
    return NULL;
}

void tick_touch(struct tick_ctx *ctx, int64_t company_id)
{
    int64_t *grown;
    int i;

    for (i = ctx->ntouched - 1; i >= 0 && i >= ctx->ntouched - 4; i--)
        if (ctx->touched[i] == company_id)
            return; /* cheap dedup of runs; publishing dedups the rest */
    if (ctx->ntouched == ctx->touched_cap) {
        int cap = ctx->touched_cap ? ctx->touched_cap * 2 : 256;
        grown = arena_alloc(ctx->arena, (size_t)cap * sizeof(*grown));
        if (!grown)
            return; /* publishing is best effort; the state is committed anyway */
        if (ctx->ntouched)
            memcpy(grown, ctx->touched, (size_t)ctx->ntouched * sizeof(*grown));
        ctx->touched = grown;
        ctx->touched_cap = cap;
    }
    ctx->touched[ctx->ntouched++] = company_id;
}

static void put_json(void *j)
{
    json_object_put(j);
}

void tick_alert(struct tick_ctx *ctx, int64_t company_id, const char *code, const char *level,
                struct json_object *detail)
{
    struct tick_alert *grown;

    if (detail && arena_defer(ctx->arena, put_json, detail) != BT_OK)
        return; /* arena_defer released it */
    if (ctx->replay)
        return;
    if (ctx->nalerts == ctx->alerts_cap) {
        int cap = ctx->alerts_cap ? ctx->alerts_cap * 2 : 64;
        grown = arena_alloc(ctx->arena, (size_t)cap * sizeof(*grown));
        if (!grown)
            return;
        if (ctx->nalerts)
            memcpy(grown, ctx->alerts, (size_t)ctx->nalerts * sizeof(*grown));
        ctx->alerts = grown;
        ctx->alerts_cap = cap;
    }
    ctx->alerts[ctx->nalerts++] = (struct tick_alert){company_id, code, level, detail};
    tick_touch(ctx, company_id);
}

/* ---- hashing ---- */

void tick_hash_i64(crypto_generichash_state *h, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    int i;

    for (i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (8 * i));
    crypto_generichash_update(h, b, sizeof(b));
}

void tick_hash_str(crypto_generichash_state *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    tick_hash_i64(h, s ? (int64_t)n : -1);
    if (n)
        crypto_generichash_update(h, (const unsigned char *)s, n);
}

static uint64_t lanes_fold(const int64_t *v, int n)
{
    uint64_t h = rng_mix((uint64_t)n);

    for (int i = 0; i < n; i++)
        h = rng_mix(h ^ (uint64_t)v[i]);
    return h;
}

void tick_lanes_add(struct tick_lanes *l, const int64_t *v, int n)
{
    uint64_t h = lanes_fold(v, n);

    l->a += h;
    l->b += rng_mix(h ^ 0x6a09e667f3bcc908ull);
}

int tick_lanes_str(int64_t *v, int n, const char *s)
{
    size_t len = s ? strlen(s) : 0, i;

    v[n++] = s ? (int64_t)len : -1;
    for (i = 0; i < len; i += 8) {
        uint64_t w = 0;
        for (size_t j = 0; j < 8 && i + j < len; j++)
            w |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
        v[n++] = (int64_t)w;
    }
    return n;
}

void tick_world_hash(const struct world *w, uint8_t out[TICK_HASH_BYTES])
{
    crypto_generichash_state h;
    size_t i;

    crypto_generichash_init(&h, NULL, 0, TICK_HASH_BYTES);
    tick_hash_i64(&h, w->tick);
    for (i = 0; i < tick_nphases; i++) {
        if (!tick_phases[i]->hash)
            continue;
        tick_hash_str(&h, tick_phases[i]->name);
        tick_phases[i]->hash(w->state[i], &h);
    }
    crypto_generichash_final(&h, out, TICK_HASH_BYTES);
}

static void inputs_hash(struct tick_ctx *ctx)
{
    crypto_generichash_state h;
    int i;

    crypto_generichash_init(&h, NULL, 0, TICK_HASH_BYTES);
    tick_hash_i64(&h, ctx->tick);
    for (i = 0; i < ctx->nintents; i++) {
        tick_hash_i64(&h, ctx->intents[i].id);
        tick_hash_i64(&h, ctx->intents[i].company_id);
        tick_hash_str(&h, ctx->intents[i].kind);
        tick_hash_str(&h, ctx->intents[i].args_text);
    }
    crypto_generichash_final(&h, ctx->inputs_hash, TICK_HASH_BYTES);
}

void tick_hex(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- world state ---- */

void tick_world_free(struct world *w)
{
    size_t i;

    for (i = 0; i < tick_nphases; i++) {
        if (w->state[i] && tick_phases[i]->free)
            tick_phases[i]->free(w->state[i]);
        w->state[i] = NULL;
    }
    w->loaded = false;
}

int tick_world_load(struct tick_ctx *ctx, struct bt_err *err)
{
    struct world *w = ctx->world;
    char id[24];
    const char *p[1] = {id};
    PGresult *r;
    size_t i;

    tick_world_free(w);
    snprintf(id, sizeof(id), "%" PRId64, w->id);
    /* One consistent view of every phase's tables. */
    if (db_command(ctx->db, "BEGIN ISOLATION LEVEL REPEATABLE READ", err) != BT_OK)
        return BT_ERR;
    ctx->db->in_tx = true;
    r = db_exec(ctx->db, ctx->arena, &q_world, 1, p, err);
    if (!r)
        goto fail;
    if (PQntuples(r) != 1) {
        err_internal(err, "world %" PRId64 " does not exist", w->id);
        goto fail;
    }
    w->tick = db_i64(r, 0, 0);
    w->seed = db_i64(r, 0, 1);
    w->tick_ms = (int)db_i64(r, 0, 2);
    snprintf(w->name, sizeof(w->name), "%s", db_str(r, 0, 3));
    ctx->tick = w->tick;
    for (i = 0; i < tick_nphases; i++)
        if (tick_phases[i]->load && tick_phases[i]->load(ctx, &w->state[i], err) != BT_OK)
            goto fail;
    if (db_commit(ctx->db, err) != BT_OK)
        goto fail;
    w->loaded = true;
    w->snapshot_due = true; /* a replay can always start from a load */
    return BT_OK;
fail:
    db_rollback(ctx->db);
    tick_world_free(w);
    return BT_ERR;
}

struct json_object *tick_world_to_json(const struct world *w)
{
    struct json_object *o = json_object_new_object();
    size_t i;

    json_object_object_add(o, "tick", json_object_new_int64(w->tick));
    for (i = 0; i < tick_nphases; i++)
        if (tick_phases[i]->to_json)
            json_object_object_add(o, tick_phases[i]->name, tick_phases[i]->to_json(w->state[i]));
    return o;
}

int tick_world_from_json(struct tick_ctx *ctx, struct json_object *j, struct bt_err *err)
{
    struct world *w = ctx->world;
    struct json_object *v;
    size_t i;

    tick_world_free(w);
    if (!json_object_object_get_ex(j, "tick", &v))
        return err_internal(err, "snapshot without a tick");
    w->tick = json_object_get_int64(v);
    for (i = 0; i < tick_nphases; i++) {
        if (!tick_phases[i]->from_json)
            continue;
        if (!json_object_object_get_ex(j, tick_phases[i]->name, &v)) {
            tick_world_free(w);
            return err_internal(err, "snapshot lacks phase %s", tick_phases[i]->name);
        }
        if (tick_phases[i]->from_json(ctx, &w->state[i], v, err) != BT_OK) {
            tick_world_free(w);
            return BT_ERR;
        }
    }
    w->loaded = true;
    return BT_OK;
}

/* ---- the steps of a tick ---- */

static int advance(struct tick_ctx *ctx, struct bt_err *err)
{
    char id[24], fence[24];
    const char *p[2] = {id, fence};
    PGresult *r;

    snprintf(id, sizeof(id), "%" PRId64, ctx->world->id);
    snprintf(fence, sizeof(fence), "%" PRId64, ctx->world->fence);
    r = db_exec(ctx->db, ctx->arena, &q_advance, 2, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) != 1) {
        r = db_exec(ctx->db, ctx->arena, &q_why, 1, p, err);
        if (r && PQntuples(r) == 1 && db_i64(r, 0, 1) > ctx->world->fence) {
            err_internal(err, "world %" PRId64 " is fenced: token %" PRId64 " < %lld",
                         ctx->world->id, ctx->world->fence, db_i64(r, 0, 1));
            return TICK_FENCED;
        }
        return err_internal(err, "world %" PRId64 " is not running", ctx->world->id);
    }
    ctx->tick = db_i64(r, 0, 0);
    if (ctx->tick != ctx->world->tick + 1)
        return err_internal(err, "world %" PRId64 " is at tick %" PRId64 ", memory at %" PRId64,
                            ctx->world->id, ctx->tick - 1, ctx->world->tick);
    ctx->world->tick_ms = (int)db_i64(r, 0, 1);
    snprintf(ctx->time_iso, sizeof(ctx->time_iso), "%s", db_str(r, 0, 2));
    return BT_OK;
}

/* Inputs, then the deterministic steps; leaves both hashes in ctx. */
static int compute(struct tick_ctx *ctx, struct bt_err *err)
{
    size_t i;

    int64_t t;

    for (i = 0; i < tick_nphases; i++) {
        t = now_us();
        if (tick_phases[i]->input && tick_phases[i]->input(ctx, ctx->world->state[i], err) != BT_OK)
            return BT_ERR;
        ctx->phase_us[i][0] = now_us() - t;
    }
    inputs_hash(ctx);
    ctx->world->tick = ctx->tick; /* the state below is the state after this tick */
    for (i = 0; i < tick_nphases; i++) {
        t = now_us();
        if (tick_phases[i]->step && tick_phases[i]->step(ctx, ctx->world->state[i], err) != BT_OK)
            return BT_ERR;
        ctx->phase_us[i][1] = now_us() - t;
    }
    t = now_us();
    tick_world_hash(ctx->world, ctx->state_hash);
    ctx->hash_us = now_us() - t;
    return BT_OK;
}

static int record(struct tick_ctx *ctx, int64_t started_wall_us, struct bt_err *err)
{
    char w[24], t[24], s[24], d[24], l[24], n[24], ih[2 * TICK_HASH_BYTES + 1],
        sh[2 * TICK_HASH_BYTES + 1];
    const char *p[6] = {w, t, s, d, l, NULL};
    const char *q[6] = {w, t, ih, sh, n, NULL};
    struct json_object *full = NULL;
    int rc;

    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    snprintf(s, sizeof(s), "%" PRId64, started_wall_us);
    snprintf(d, sizeof(d), "%" PRId64, ctx->compute_us + ctx->persist_us);
    snprintf(l, sizeof(l), "%" PRId64, ctx->lateness_us);
    snprintf(n, sizeof(n), "%d", ctx->nintents);
    if (!db_exec(ctx->db, ctx->arena, &q_record, 5, p, err))
        return BT_ERR;
    tick_hex(ctx->inputs_hash, TICK_HASH_BYTES, ih);
    tick_hex(ctx->state_hash, TICK_HASH_BYTES, sh);
    if (ctx->world->snapshot_due || ctx->tick % ctx->snapshot_every == 0) {
        full = tick_world_to_json(ctx->world);
        q[5] = json_object_to_json_string_ext(full, JSON_C_TO_STRING_PLAIN);
    }
    rc = db_exec(ctx->db, ctx->arena, &q_snapshot, 6, q, err) ? BT_OK : BT_ERR;
    json_object_put(full);
    return rc;
}

static struct json_object *message(struct tick_ctx *ctx, const char *type,
                                   struct json_object *payload)
{
    struct json_object *m = json_object_new_object();

    json_object_object_add(m, "type", json_object_new_string(type));
    json_object_object_add(m, "world", json_object_new_int64(ctx->world->id));
    json_object_object_add(m, "tick", json_object_new_int64(ctx->tick));
    json_object_object_add(m, "ts", json_object_new_string(ctx->time_iso));
    json_object_object_add(m, "payload", payload);
    return m;
}

/* Serializes m into the batch (then releases m).  Best effort: a message
 * that cannot be stored is dropped, the tick is committed anyway. */
static void publish_msg(struct outbox_batch *b, const char *channel, const char *type,
                        struct json_object *m)
{
    size_t len;
    const char *s = json_object_to_json_string_length(m, JSON_C_TO_STRING_PLAIN, &len);

    if (!b || !s || outbox_add(b, channel, type, s, len) != BT_OK)
        log_msg(LOGL_WARN, NULL, "publish to %s dropped: out of memory", channel);
    json_object_put(m);
}

static struct json_object *intent_json(const struct tick_intent *in)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "intent_id", json_object_new_int64(in->id));
    json_object_object_add(o, "kind", json_object_new_string(in->kind));
    json_object_object_add(
        o, "status", json_object_new_string(in->status == INTENT_APPLIED ? "applied" : "rejected"));
    if (in->status == INTENT_REJECTED)
        json_object_object_add(o, "reason", json_object_new_string(in->reason));
    return o;
}

/* Positions 0..n-1 ordered by (company of the item, position): the items of
 * one company in their original order, companies ascending. */
struct by_company {
    int64_t company;
    int pos;
};

static int cmp_by_company(const void *a, const void *b)
{
    const struct by_company *x = a, *y = b;

    if (x->company != y->company)
        return x->company < y->company ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static struct by_company *order_by_company(struct tick_ctx *ctx, int n, bool alerts)
{
    struct by_company *o = n ? arena_alloc(ctx->arena, (size_t)n * sizeof(*o)) : NULL;
    int i;

    if (!o)
        return NULL;
    for (i = 0; i < n; i++)
        o[i] =
            (struct by_company){alerts ? ctx->alerts[i].company_id : ctx->intents[i].company_id, i};
    qsort(o, (size_t)n, sizeof(*o), cmp_by_company);
    return o;
}

static void publish_alert(struct outbox_batch *b, struct tick_ctx *ctx, const char *channel,
                          const struct tick_alert *al)
{
    struct json_object *a = json_object_new_object();

    json_object_object_add(a, "code", json_object_new_string(al->code));
    json_object_object_add(a, "level", json_object_new_string(al->level));
    if (al->detail) {
        json_object_object_foreach(al->detail, key, val)
        {
            if (strcmp(key, "code") != 0 && strcmp(key, "level") != 0)
                json_object_object_add(a, key, json_object_get(val));
        }
    }
    publish_msg(b, channel, "alert", message(ctx, "alert", a));
}

/* Per-company player:update (every phase's company fields plus the outcome
 * of its intents), an alert per rejected intent and the alerts the phases
 * raised (tick_alert), on company.<cid>.  Intents and alerts are walked in
 * company order beside the sorted touched companies (a merge, not a scan of
 * every intent per company). */
static void publish_companies(struct tick_ctx *ctx, struct outbox_batch *b)
{
    struct by_company *oi, *oa;
    char channel[48];
    int i, ki = 0, ka = 0, k;

    if (ctx->ntouched == 0)
        return;
    qsort(ctx->touched, (size_t)ctx->ntouched, sizeof(int64_t), bt_cmp_i64);
    oi = order_by_company(ctx, ctx->nintents, false);
    oa = order_by_company(ctx, ctx->nalerts, true);
    if ((ctx->nintents && !oi) || (ctx->nalerts && !oa)) {
        log_msg(LOGL_WARN, NULL, "world %" PRId64 " tick %" PRId64 ": no memory to publish",
                ctx->world->id, ctx->tick);
        return;
    }
    for (i = 0; i < ctx->ntouched; i++) {
        struct json_object *payload, *intents;
        int64_t cid = ctx->touched[i];
        int first;
        size_t p;
        if ((i > 0 && ctx->touched[i - 1] == cid) ||
            (ctx->online_known && !presence_has(ctx->online, ctx->nonline, cid)))
            continue;
        snprintf(channel, sizeof(channel), "company.%" PRId64, cid);
        payload = json_object_new_object();
        json_object_object_add(payload, "company_id", json_object_new_int64(cid));
        for (p = 0; p < tick_nphases; p++)
            if (tick_phases[p]->company)
                tick_phases[p]->company(ctx->world->state[p], cid, payload);
        intents = json_object_new_array();
        while (ki < ctx->nintents && oi[ki].company < cid)
            ki++;
        for (first = ki; ki < ctx->nintents && oi[ki].company == cid; ki++)
            json_object_array_add(intents, intent_json(&ctx->intents[oi[ki].pos]));
        json_object_object_add(payload, "intents", intents);
        publish_msg(b, channel, "player:update", message(ctx, "player:update", payload));
        for (k = first; k < ki; k++) {
            struct tick_intent *in = &ctx->intents[oi[k].pos];
            struct json_object *a;
            if (in->status != INTENT_REJECTED)
                continue;
            a = intent_json(in);
            json_object_object_add(a, "level", json_object_new_string("warning"));
            json_object_object_add(a, "code", json_object_new_string("intent_rejected"));
            publish_msg(b, channel, "alert", message(ctx, "alert", a));
        }
        while (ka < ctx->nalerts && oa[ka].company < cid)
            ka++;
        for (; ka < ctx->nalerts && oa[ka].company == cid; ka++)
            publish_alert(b, ctx, channel, &ctx->alerts[oa[ka].pos]);
    }
}

/* Builds every message of the committed tick into one batch and hands it
 * to the publisher thread. */
static void publish(struct tick_ctx *ctx)
{
    struct json_object *payload;
    struct outbox_batch *b;
    char channel[48];
    size_t i;

    if (!ctx->outbox)
        return;
    if (ctx->presence)
        ctx->presence(ctx, ctx->presence_arg);
    b = outbox_batch_new();
    payload = json_object_new_object();
    json_object_object_add(payload, "tick", json_object_new_int64(ctx->tick));
    json_object_object_add(payload, "tick_ms", json_object_new_int(ctx->world->tick_ms));
    for (i = 0; i < tick_nphases; i++)
        if (tick_phases[i]->payload)
            tick_phases[i]->payload(ctx->world->state[i], payload);
    snprintf(channel, sizeof(channel), "world.%" PRId64, ctx->world->id);
    publish_msg(b, channel, "tick:update", message(ctx, "tick:update", payload));
    publish_companies(ctx, b);
    outbox_push(ctx->outbox, b);
}

/* Debug line: where compute and commit went, per phase input/step/persist
 * (microseconds), then the state hash and the tick record. */
static void log_phases(const struct tick_ctx *ctx)
{
    char line[1024];
    size_t i, off = 0;

    if (!log_enabled(LOGL_DEBUG))
        return;
    line[0] = '\0';
    for (i = 0; i < tick_nphases && off < sizeof(line); i++)
        off += (size_t)snprintf(line + off, sizeof(line) - off,
                                " %s %" PRId64 "/%" PRId64 "/%" PRId64, tick_phases[i]->name,
                                ctx->phase_us[i][0], ctx->phase_us[i][1], ctx->phase_us[i][2]);
    log_msg(LOGL_DEBUG, NULL,
            "world %" PRId64 " tick %" PRId64 " phases_us(input/step/persist)%s hash %" PRId64
            " record %" PRId64,
            ctx->world->id, ctx->tick, line, ctx->hash_us, ctx->record_us);
}

static void reset_inputs(struct tick_ctx *ctx)
{
    ctx->intents = NULL;
    ctx->nintents = 0;
    ctx->touched = NULL;
    ctx->ntouched = ctx->touched_cap = 0;
    ctx->alerts = NULL;
    ctx->nalerts = ctx->alerts_cap = 0;
}

int tick_run(struct tick_ctx *ctx, struct bt_err *err)
{
    int64_t t0 = now_us(), started_wall = wall_us(), t1, t2;
    size_t i;
    int rc;

    ctx->started_us = t0;
    reset_inputs(ctx);
    if (!ctx->world->loaded) {
        /* A (re)load is recovery, not the tick's work: logged, not timed in. */
        if (tick_world_load(ctx, err) != BT_OK)
            goto fail;
        log_msg(LOGL_INFO, NULL, "world %" PRId64 ": loaded at tick %" PRId64 " in %" PRId64 " ms",
                ctx->world->id, ctx->world->tick, (now_us() - t0) / 1000);
        t0 = now_us();
    }
    if (db_begin(ctx->db, err) != BT_OK)
        goto fail;
    rc = advance(ctx, err);
    if (rc == TICK_FENCED) {
        db_rollback(ctx->db);
        tick_world_free(ctx->world);
        return TICK_FENCED;
    }
    if (rc != BT_OK || compute(ctx, err) != BT_OK)
        goto fail;
    /* compute: claim, steps and hash (in memory); commit: every write. */
    t1 = now_us();
    ctx->compute_us = t1 - t0;
    for (i = 0; i < tick_nphases; i++) {
        int64_t t = now_us();
        if (tick_phases[i]->persist &&
            tick_phases[i]->persist(ctx, ctx->world->state[i], err) != BT_OK)
            goto fail;
        ctx->phase_us[i][2] = now_us() - t;
    }
    ctx->persist_us = now_us() - t1;
    if (record(ctx, started_wall, err) != BT_OK)
        goto fail;
    ctx->record_us = now_us() - t1 - ctx->persist_us;
    if (db_commit(ctx->db, err) != BT_OK)
        goto fail;
    t2 = now_us();
    ctx->commit_us = t2 - t1;
    ctx->world->snapshot_due = false;
    for (i = 0; i < tick_nphases; i++)
        if (tick_phases[i]->commit)
            tick_phases[i]->commit(ctx, ctx->world->state[i]);
    publish(ctx);
    ctx->publish_us = now_us() - t2;
    metrics_observe(ctx->metrics, &ctx->tm->compute, (uint64_t)ctx->compute_us);
    metrics_observe(ctx->metrics, &ctx->tm->commit, (uint64_t)ctx->commit_us);
    metrics_observe(ctx->metrics, &ctx->tm->publish, (uint64_t)ctx->publish_us);
    metrics_observe(ctx->metrics, &ctx->tm->total, (uint64_t)(now_us() - t0));
    metrics_observe(ctx->metrics, &ctx->tm->lateness, (uint64_t)ctx->lateness_us);
    metrics_add(ctx->metrics, ctx->tm->ticks, 1);
    metrics_set(ctx->metrics, ctx->tm->current_tick, ctx->tick);
    log_msg(LOGL_DEBUG, NULL,
            "world %" PRId64 " tick %" PRId64 " intents %d compute_us %" PRId64
            " commit_us %" PRId64 " publish_us %" PRId64,
            ctx->world->id, ctx->tick, ctx->nintents, ctx->compute_us, ctx->commit_us,
            ctx->publish_us);
    log_phases(ctx);
    return BT_OK;
fail:
    db_rollback(ctx->db);
    /* Whatever the phases did in memory is not committed: forget it. */
    tick_world_free(ctx->world);
    metrics_add(ctx->metrics, ctx->tm->failures, 1);
    return BT_ERR;
}

int tick_replay_one(struct tick_ctx *ctx, struct bt_err *err)
{
    reset_inputs(ctx);
    return compute(ctx, err);
}
