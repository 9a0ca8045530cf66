/*
 * tick.c - the phases of a tick (see tick.h).
 *
 * Phases: begin -> advance the world clock -> (game phases) -> record the
 * tick -> commit -> publish.  Nothing is published before the commit, so a
 * client never sees a tick that could still roll back.
 */
#include "tick.h"
#include "log.h"
#include "world.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

DB_STMT(q_advance, "UPDATE worlds SET tick = tick + 1, last_tick_at = clock_timestamp() "
                   "WHERE id = $1 AND status = 'running' RETURNING tick, tick_ms, "
                   "to_char(last_tick_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
DB_STMT(q_record, "INSERT INTO ticks (world_id, tick, started_at, duration_us, lateness_us) "
                  "VALUES ($1, $2, to_timestamp($3::double precision / 1e6), $4, $5)");

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
}

static int phase_advance(struct tick_ctx *ctx, struct bt_err *err)
{
    char id[24];
    const char *p[1] = {id};
    PGresult *r;

    snprintf(id, sizeof(id), "%" PRId64, ctx->world->id);
    r = db_exec(ctx->db, ctx->arena, &q_advance, 1, p, err);
    if (!r)
        return BT_ERR;
    if (PQntuples(r) != 1)
        return err_internal(err, "world %" PRId64 " is not running", ctx->world->id);
    ctx->tick = db_i64(r, 0, 0);
    ctx->world->tick_ms = (int)db_i64(r, 0, 1);
    snprintf(ctx->time_iso, sizeof(ctx->time_iso), "%s", db_str(r, 0, 2));
    return BT_OK;
}

/* World processes: admin inputs, the deterministic step, persistence.  The
 * model is plain data; tick_run restores *backup if the tick rolls back. */
static int phase_world(struct tick_ctx *ctx, struct world_model *backup, struct bt_err *err)
{
    struct world_model *wm = ctx->world->model;

    *backup = *wm;
    if (world_model_sync(wm, ctx->db, ctx->arena, ctx->tick, err) != BT_OK)
        return BT_ERR;
    world_model_step(wm, ctx->world->seed, ctx->tick, ctx->threads);
    return world_model_persist(wm, ctx->db, ctx->arena, ctx->tick, err);
}

static int phase_record(struct tick_ctx *ctx, int64_t started_wall_us, struct bt_err *err)
{
    char w[24], t[24], s[24], d[24], l[24];
    const char *p[5] = {w, t, s, d, l};

    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    snprintf(s, sizeof(s), "%" PRId64, started_wall_us);
    snprintf(d, sizeof(d), "%" PRId64, ctx->compute_us);
    snprintf(l, sizeof(l), "%" PRId64, ctx->lateness_us);
    return db_exec(ctx->db, ctx->arena, &q_record, 5, p, err) ? BT_OK : BT_ERR;
}

static void phase_publish(struct tick_ctx *ctx)
{
    struct json_object *m = json_object_new_object(), *payload = json_object_new_object();
    char channel[48];
    const char *s;
    struct bt_err err;

    err_clear(&err);
    json_object_object_add(m, "type", json_object_new_string("tick:update"));
    json_object_object_add(m, "world", json_object_new_int64(ctx->world->id));
    json_object_object_add(m, "tick", json_object_new_int64(ctx->tick));
    json_object_object_add(m, "ts", json_object_new_string(ctx->time_iso));
    json_object_object_add(payload, "tick", json_object_new_int64(ctx->tick));
    json_object_object_add(payload, "tick_ms", json_object_new_int(ctx->world->tick_ms));
    world_model_payload(ctx->world->model, payload);
    json_object_object_add(m, "payload", payload);
    s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
    snprintf(channel, sizeof(channel), "world.%" PRId64, ctx->world->id);
    if (pub_send(ctx->pub, channel, "tick:update", s, strlen(s), &err) != BT_OK)
        log_msg(LOGL_WARN, NULL, "world %" PRId64 " tick %" PRId64 ": publish failed: %s",
                ctx->world->id, ctx->tick, err.internal);
    json_object_put(m);
}

int tick_run(struct tick_ctx *ctx, struct bt_err *err)
{
    int64_t t0 = now_us(), started_wall = wall_us(), t1, t2;
    struct world_model *backup = arena_alloc(ctx->arena, sizeof(*backup));
    bool stepped = false;

    ctx->started_us = t0;
    if (!backup) {
        err_internal(err, "out of memory");
        goto fail;
    }
    if (db_begin(ctx->db, err) != BT_OK)
        goto fail;
    if (phase_advance(ctx, err) != BT_OK)
        goto fail;
    stepped = true;
    if (phase_world(ctx, backup, err) != BT_OK)
        goto fail;
    t1 = now_us();
    ctx->compute_us = t1 - t0;
    if (phase_record(ctx, started_wall, err) != BT_OK)
        goto fail;
    if (db_commit(ctx->db, err) != BT_OK)
        goto fail;
    t2 = now_us();
    ctx->commit_us = t2 - t1;
    ctx->world->tick = ctx->tick;
    phase_publish(ctx);
    ctx->publish_us = now_us() - t2;
    metrics_observe(ctx->metrics, &ctx->tm->compute, (uint64_t)ctx->compute_us);
    metrics_observe(ctx->metrics, &ctx->tm->commit, (uint64_t)ctx->commit_us);
    metrics_observe(ctx->metrics, &ctx->tm->publish, (uint64_t)ctx->publish_us);
    metrics_observe(ctx->metrics, &ctx->tm->total, (uint64_t)(now_us() - t0));
    metrics_observe(ctx->metrics, &ctx->tm->lateness, (uint64_t)ctx->lateness_us);
    metrics_add(ctx->metrics, ctx->tm->ticks, 1);
    metrics_set(ctx->metrics, ctx->tm->current_tick, ctx->tick);
    return BT_OK;
fail:
    db_rollback(ctx->db);
    if (stepped)
        *ctx->world->model = *backup;
    metrics_add(ctx->metrics, ctx->tm->failures, 1);
    return BT_ERR;
}
