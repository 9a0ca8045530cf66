/*
 * world_phase.c - the world processes (tickd/world.h) as a tick phase.
 *
 * The model is one heap block per world (plain data, no pointers).  Its
 * inputs are the admin's parameter changes and shocks (world_model_sync,
 * or their record in a replay); its step is pure; it persists its own rows
 * and adds the public figures (price, network, regions, events) to
 * tick:update.  A failed tick frees and reloads every phase, this one too.
 */
#include "world_phase.h"

#include <stdlib.h>

static int load(struct tick_ctx *ctx, void **state, struct bt_err *err)
{
    struct world_model *wm = calloc(1, sizeof(*wm));

    if (!wm)
        return err_internal(err, "out of memory for the world model");
    if (world_model_load(wm, ctx->db, ctx->arena, ctx->world->id, err) != BT_OK) {
        free(wm);
        return BT_ERR;
    }
    *state = wm;
    return BT_OK;
}

static int input(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    return world_model_sync(state, ctx->db, ctx->arena, ctx->tick, ctx->replay, err);
}

static int step(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    BT_UNUSED(err);
    world_model_step(state, (uint64_t)ctx->world->seed, ctx->tick, ctx->threads);
    return BT_OK;
}

static int persist(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    return world_model_persist(state, ctx->db, ctx->arena, ctx->tick, err);
}

static void hash(const void *state, crypto_generichash_state *h)
{
    world_model_hash(state, h);
}

static void payload(const void *state, struct json_object *p)
{
    world_model_payload(state, p);
}

static struct json_object *to_json(const void *state)
{
    return world_model_to_json(state);
}

static int from_json(struct tick_ctx *ctx, void **state, struct json_object *j, struct bt_err *err)
{
    struct world_model *wm = calloc(1, sizeof(*wm));

    if (!wm)
        return err_internal(err, "out of memory for the world model");
    /* Identity comes from the world, not the snapshot. */
    wm->world_id = ctx->world->id;
    wm->seed = (uint64_t)ctx->world->seed;
    if (world_model_from_json(wm, j, err) != BT_OK) {
        free(wm);
        return BT_ERR;
    }
    *state = wm;
    return BT_OK;
}

static void release(void *state)
{
    world_model_free(state);
    free(state);
}

const struct tick_phase tick_phase_world = {
    .name = "world",
    .load = load,
    .input = input,
    .step = step,
    .persist = persist,
    .hash = hash,
    .payload = payload,
    .to_json = to_json,
    .from_json = from_json,
    .free = release,
};

struct world_model *world_of(const struct tick_ctx *ctx)
{
    return tick_state(ctx, &tick_phase_world);
}
