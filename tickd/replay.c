/*
 * replay.c - tickd replay / verify (see replay.h).
 *
 * Uses exactly the code of a live tick (tick_replay_one runs the same
 * input and step callbacks, with inputs read from the record instead of
 * claimed), writes nothing, and stops at the first tick whose inputs hash,
 * intent outcomes or state hash differ from what was committed.
 */
#include "replay.h"
#include "ledger.h"
#include "log.h"
#include "tick.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(q_first_full, "SELECT min(tick) FROM tick_snapshots WHERE world_id = $1 AND "
                      "full_state IS NOT NULL AND tick >= $2");
DB_STMT(q_full, "SELECT full_state::text, encode(state_hash, 'hex') FROM tick_snapshots "
                "WHERE world_id = $1 AND tick = $2 AND full_state IS NOT NULL");
DB_STMT(q_hashes, "SELECT tick, encode(inputs_hash, 'hex'), encode(state_hash, 'hex') "
                  "FROM tick_snapshots WHERE world_id = $1 AND tick > $2 AND tick <= $3 "
                  "ORDER BY tick");
DB_STMT(q_world_row, "SELECT tick, seed FROM worlds WHERE id = $1");

/* Writes the path of the first difference between a and b into path;
 * returns false when they are equal. */
static bool json_differs(struct json_object *a, struct json_object *b, char *path, size_t n)
{
    size_t len = strlen(path);

    if (json_object_get_type(a) != json_object_get_type(b))
        return true;
    if (json_object_is_type(a, json_type_object)) {
        json_object_object_foreach(a, k, va)
        {
            struct json_object *vb = NULL;
            snprintf(path + len, n - len, ".%s", k);
            if (!json_object_object_get_ex(b, k, &vb) || json_differs(va, vb, path, n))
                return true;
        }
        path[len] = '\0';
        return json_object_object_length(a) != json_object_object_length(b);
    }
    if (json_object_is_type(a, json_type_array)) {
        size_t i, na = json_object_array_length(a);
        if (na != json_object_array_length(b))
            return true;
        for (i = 0; i < na; i++) {
            snprintf(path + len, n - len, "[%zu]", i);
            if (json_differs(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i), path,
                             n))
                return true;
        }
        path[len] = '\0';
        return false;
    }
    return !json_object_equal(a, b);
}

/* After a state divergence: when the record holds the full state of that
 * tick, names the first field that differs (the hash alone does not). */
static void explain(const struct tick_ctx *ctx, FILE *out)
{
    char ws[24], ts[24], path[256] = "";
    const char *p[2] = {ws, ts};
    struct json_object *rec, *got;
    struct bt_err err;
    PGresult *r;

    err_clear(&err);
    snprintf(ws, sizeof(ws), "%" PRId64, ctx->world->id);
    snprintf(ts, sizeof(ts), "%" PRId64, ctx->tick);
    r = db_exec(ctx->db, ctx->arena, &q_full, 2, p, &err);
    if (!r || PQntuples(r) != 1)
        return;
    rec = json_tokener_parse(db_str(r, 0, 0));
    got = tick_world_to_json(ctx->world);
    if (rec && json_differs(got, rec, path, sizeof(path)))
        fprintf(out, "  first difference from the recorded full state: %s\n",
                path[0] ? path : "(top level)");
    json_object_put(rec);
    json_object_put(got);
}

/* Compares one replayed tick with its record; prints the first difference. */
static bool same_tick(const struct tick_ctx *ctx, const char *ih, const char *sh, FILE *out)
{
    char got[2 * TICK_HASH_BYTES + 1];
    int i;

    tick_hex(ctx->inputs_hash, TICK_HASH_BYTES, got);
    if (strcmp(got, ih) != 0) {
        fprintf(out, "divergence at tick %" PRId64 ": inputs hash %s, recorded %s\n", ctx->tick,
                got, ih);
        return false;
    }
    for (i = 0; i < ctx->nintents; i++)
        if (ctx->intents[i].status != ctx->intents[i].recorded) {
            fprintf(out,
                    "divergence at tick %" PRId64 ": intent %" PRId64 " %s on replay (%s), "
                    "recorded %s\n",
                    ctx->tick, ctx->intents[i].id,
                    ctx->intents[i].status == INTENT_APPLIED ? "applied" : "rejected",
                    ctx->intents[i].reason,
                    ctx->intents[i].recorded == INTENT_APPLIED ? "applied" : "rejected");
            return false;
        }
    tick_hex(ctx->state_hash, TICK_HASH_BYTES, got);
    if (strcmp(got, sh) != 0) {
        fprintf(out, "divergence at tick %" PRId64 ": state hash %s, recorded %s\n", ctx->tick, got,
                sh);
        explain(ctx, out);
        return false;
    }
    return true;
}

/* The state loaded from the tables must be the replayed state. */
static int compare_with_tables(struct tick_ctx *ctx, const uint8_t *replayed, FILE *out)
{
    struct world w;
    struct world *keep = ctx->world;
    struct bt_err err;
    uint8_t h[TICK_HASH_BYTES];
    char a[2 * TICK_HASH_BYTES + 1], b[2 * TICK_HASH_BYTES + 1];
    int rc = 0;

    memset(&w, 0, sizeof(w));
    w.id = keep->id;
    err_clear(&err);
    ctx->world = &w;
    if (tick_world_load(ctx, &err) != BT_OK) {
        fprintf(out, "cannot load world %" PRId64 ": %s %s\n", w.id, err.detail, err.internal);
        rc = 2;
    } else if (w.tick == keep->tick) {
        tick_world_hash(&w, h);
        if (memcmp(h, replayed, TICK_HASH_BYTES) != 0) {
            tick_hex(h, TICK_HASH_BYTES, a);
            tick_hex(replayed, TICK_HASH_BYTES, b);
            fprintf(out, "divergence: the tables at tick %" PRId64 " hash to %s, replay to %s\n",
                    w.tick, a, b);
            rc = 1;
        }
    }
    tick_world_free(&w);
    ctx->world = keep;
    return rc;
}

int replay_run(struct db *db, const struct replay_opts *o, FILE *out)
{
    struct world w;
    struct arena arena;
    struct tick_ctx ctx;
    struct bt_err err;
    struct json_object *full = NULL;
    char ws[24], fs[24], ts[24], got[2 * TICK_HASH_BYTES + 1];
    const char *p[3] = {ws, fs, ts};
    PGresult *r, *hashes;
    int64_t from = o->from, to = o->to, last, nticks = 0, nintents = 0;
    int i, rc = 2;

    memset(&w, 0, sizeof(w));
    memset(&ctx, 0, sizeof(ctx));
    arena_init(&arena, 0);
    err_clear(&err);
    w.id = o->world;
    ctx.db = db;
    ctx.arena = &arena;
    ctx.world = &w;
    ctx.replay = true;
    ctx.threads = 1;
    snprintf(ws, sizeof(ws), "%" PRId64, o->world);
    r = db_exec(db, &arena, &q_world_row, 1, p, &err);
    if (!r || PQntuples(r) != 1) {
        fprintf(out, "no world %" PRId64 " %s\n", o->world, err.internal);
        goto out;
    }
    last = db_i64(r, 0, 0);
    w.seed = db_i64(r, 0, 1);
    if (to < 0 || to > last)
        to = last;
    snprintf(fs, sizeof(fs), "%" PRId64, from < 0 ? 0 : from);
    if (from < 0) {
        r = db_exec(db, &arena, &q_first_full, 2, p, &err);
        if (!r || !db_str(r, 0, 0)) {
            fprintf(out, "world %" PRId64 " has no full snapshot\n", o->world);
            goto out;
        }
        from = db_i64(r, 0, 0);
        snprintf(fs, sizeof(fs), "%" PRId64, from);
    }
    r = db_exec(db, &arena, &q_full, 2, p, &err);
    if (!r || PQntuples(r) != 1) {
        fprintf(out, "no full snapshot of world %" PRId64 " at tick %" PRId64 "\n", o->world, from);
        goto out;
    }
    full = json_tokener_parse(db_str(r, 0, 0));
    if (!full || tick_world_from_json(&ctx, full, &err) != BT_OK) {
        fprintf(out, "snapshot at tick %" PRId64 " cannot be restored: %s\n", from, err.internal);
        goto out;
    }
    /* The snapshot must round-trip to the state that was hashed. */
    tick_world_hash(&w, ctx.state_hash);
    tick_hex(ctx.state_hash, TICK_HASH_BYTES, got);
    if (strcmp(got, db_str(r, 0, 1)) != 0) {
        fprintf(out, "divergence at tick %" PRId64 ": snapshot hashes to %s, recorded %s\n", from,
                got, db_str(r, 0, 1));
        rc = 1;
        goto out;
    }
    snprintf(ts, sizeof(ts), "%" PRId64, to);
    hashes = db_exec(db, NULL, &q_hashes, 3, p, &err);
    if (!hashes) {
        fprintf(out, "cannot read the tick record: %s\n", err.internal);
        goto out;
    }
    rc = 0;
    for (i = 0; i < PQntuples(hashes) && rc == 0; i++) {
        ctx.tick = db_i64(hashes, i, 0);
        if (ctx.tick != w.tick + 1) {
            fprintf(out, "divergence at tick %" PRId64 ": no record of the tick\n", w.tick + 1);
            rc = 1;
            break;
        }
        if (tick_replay_one(&ctx, &err) != BT_OK) {
            fprintf(out, "tick %" PRId64 " cannot be replayed: %s %s\n", ctx.tick, err.detail,
                    err.internal);
            rc = 2;
            break;
        }
        if (!same_tick(&ctx, db_str(hashes, i, 1), db_str(hashes, i, 2), out))
            rc = 1;
        nticks++;
        nintents += ctx.nintents;
        arena_reset(&arena);
    }
    PQclear(hashes);
    if (rc == 0 && w.tick != to) {
        fprintf(out, "divergence at tick %" PRId64 ": no record of the tick\n", w.tick + 1);
        rc = 1;
    }
    if (rc == 0 && o->verify) {
        if (ledger_verify_db(db, &arena, o->world, &err) != BT_OK) {
            fprintf(out, "%s%s\n", err.detail, err.internal);
            rc = 1;
        } else if (to == last) {
            uint8_t replayed[TICK_HASH_BYTES];
            memcpy(replayed, ctx.state_hash, TICK_HASH_BYTES);
            rc = compare_with_tables(&ctx, replayed, out);
        }
    }
    if (rc == 0)
        fprintf(out,
                "world %" PRId64 ": ticks %" PRId64 "..%" PRId64 " replayed from the snapshot at "
                "%" PRId64 ": %" PRId64 " ticks, %" PRId64 " intents, every hash matches\n",
                o->world, from + 1, to, from, nticks, nintents);
out:
    json_object_put(full);
    tick_world_free(&w);
    arena_free(&arena);
    return rc;
}
