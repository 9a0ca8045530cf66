/*
 * intents.c - claiming, applying and recording intents (see intents.h).
 *
 * Claiming is by status, never by "id greater than the last one seen": an
 * intent whose INSERT commits after one with a higher id is still 'queued'
 * at the next tick and is claimed then.  The tick transaction sets every
 * claimed intent to applied/rejected and commits together with the state
 * change, so an intent is applied exactly once: a tick that fails leaves
 * its intents queued for the next one.  Only the fenced owner of a world
 * runs this.  The claim takes no row locks (FOR UPDATE wrote a lock into
 * each of the 10,000 rows a loaded tick claims, a quarter of the claim's
 * time): tickd is the only writer of an intent after its insert, and a
 * former owner that claimed the same rows cannot record them twice - its
 * outcome UPDATE (which requires status 'queued' and every row updated)
 * meets the rows the new owner committed and fails in the tick's
 * REPEATABLE READ transaction, and its commit is fenced anyway.
 *
 * The apply order is id order within the claimed set; the position is
 * stored (seq) so that a replay reads the same inputs in the same order.
 */
#include "intents.h"
#include "log.h"
#include "pgarr.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(q_claim, "SELECT id, company_id, kind, args::text, request_id, 'queued', NULL "
                 "FROM intents WHERE world_id = $1 AND status = 'queued' "
                 "ORDER BY id LIMIT $2");
DB_STMT(q_recorded, "SELECT id, company_id, kind, args::text, request_id, status, reason "
                    "FROM intents WHERE world_id = $1 AND applied_tick = $2 ORDER BY seq");
DB_STMT(q_outcomes,
        "UPDATE intents i SET status = u.st, reason = u.re, applied_tick = $2, seq = u.seq "
        "FROM unnest($3::bigint[], $4::text[], $5::text[], $6::int[]) AS u(id, st, re, seq) "
        "WHERE i.id = u.id AND i.world_id = $1 AND i.status = 'queued'");

static int input(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    char w[24], t[24];
    const char *p[2] = {w, t};
    PGresult *r;
    int i, n;

    BT_UNUSED(state);
    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    if (ctx->replay)
        snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    else
        snprintf(t, sizeof(t), "%d", TICK_MAX_INTENTS);
    r = db_exec(ctx->db, ctx->arena, ctx->replay ? &q_recorded : &q_claim, 2, p, err);
    if (!r)
        return BT_ERR;
    n = PQntuples(r);
    ctx->intents = n ? arena_zalloc(ctx->arena, (size_t)n * sizeof(*ctx->intents)) : NULL;
    if (n && !ctx->intents)
        return err_internal(err, "out of memory for %d intents", n);
    for (i = 0; i < n; i++) {
        struct tick_intent *in = &ctx->intents[i];
        const char *st = db_str(r, i, 5);
        in->id = db_i64(r, i, 0);
        in->company_id = db_i64(r, i, 1);
        in->kind = db_str(r, i, 2);
        in->args_text = db_str(r, i, 3);
        in->request_id = db_str(r, i, 4);
        in->recorded = strcmp(st, "applied") == 0    ? INTENT_APPLIED
                       : strcmp(st, "rejected") == 0 ? INTENT_REJECTED
                                                     : INTENT_QUEUED;
    }
    ctx->nintents = n;
    return BT_OK;
}

static void put_json(void *j)
{
    json_object_put(j);
}

static void apply_one(struct tick_ctx *ctx, struct tick_intent *in)
{
    const struct intent_kind *k = tick_intent_kind(in->kind);

    in->reason[0] = '\0';
    in->args = in->args_text ? json_tokener_parse(in->args_text) : NULL;
    if (in->args)
        arena_defer(ctx->arena, put_json, in->args);
    if (!k) {
        snprintf(in->reason, sizeof(in->reason), "unknown intent kind");
        in->status = INTENT_REJECTED;
    } else if (!in->args || !json_object_is_type(in->args, json_type_object)) {
        snprintf(in->reason, sizeof(in->reason), "arguments are not a JSON object");
        in->status = INTENT_REJECTED;
    } else if (k->apply(ctx, in, in->reason, sizeof(in->reason)) == BT_OK) {
        in->status = INTENT_APPLIED;
    } else {
        if (!in->reason[0])
            snprintf(in->reason, sizeof(in->reason), "rejected");
        in->status = INTENT_REJECTED;
    }
    tick_touch(ctx, in->company_id);
}

void intents_apply_all(struct tick_ctx *ctx)
{
    int i;

    for (i = 0; i < ctx->nintents; i++)
        apply_one(ctx, &ctx->intents[i]);
}

static int step(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    BT_UNUSED(state);
    BT_UNUSED(err);
    intents_apply_all(ctx);
    return BT_OK;
}

static int persist(struct tick_ctx *ctx, void *state, struct bt_err *err)
{
    struct pgarr id, st, re, seq;
    char w[24], t[24];
    const char *p[6] = {w, t};
    PGresult *r;
    int i, rc = BT_ERR;

    BT_UNUSED(state);
    if (ctx->nintents == 0)
        return BT_OK;
    pgarr_init(&id);
    pgarr_init(&st);
    pgarr_init(&re);
    pgarr_init(&seq);
    for (i = 0; i < ctx->nintents; i++) {
        const struct tick_intent *in = &ctx->intents[i];
        pgarr_i64(&id, in->id);
        pgarr_str(&st, in->status == INTENT_APPLIED ? "applied" : "rejected");
        pgarr_str(&re, in->status == INTENT_APPLIED ? NULL : in->reason);
        pgarr_i64(&seq, i);
    }
    snprintf(w, sizeof(w), "%" PRId64, ctx->world->id);
    snprintf(t, sizeof(t), "%" PRId64, ctx->tick);
    p[2] = pgarr_done(&id);
    p[3] = pgarr_done(&st);
    p[4] = pgarr_done(&re);
    p[5] = pgarr_done(&seq);
    if (!p[2] || !p[3] || !p[4] || !p[5]) {
        err_internal(err, "too many intents in one tick");
        goto out;
    }
    r = db_exec(ctx->db, ctx->arena, &q_outcomes, 6, p, err);
    if (!r)
        goto out;
    if (atoll(PQcmdTuples(r)) != ctx->nintents) {
        /* A claimed intent changed under us: never commit a partial record. */
        err_internal(err, "recorded %s of %d intent outcomes", PQcmdTuples(r), ctx->nintents);
        goto out;
    }
    rc = BT_OK;
out:
    pgarr_free(&id);
    pgarr_free(&st);
    pgarr_free(&re);
    pgarr_free(&seq);
    return rc;
}

/* Once committed, each outcome is logged with the request id of the call
 * that created the intent (so a request can be followed into its tick):
 * only outcomes that really happened, and off the tick's compute time. */
static void commit(struct tick_ctx *ctx, void *state)
{
    int i, applied = 0;

    BT_UNUSED(state);
    for (i = 0; i < ctx->nintents; i++) {
        const struct tick_intent *in = &ctx->intents[i];
        applied += in->status == INTENT_APPLIED;
        log_msg(LOGL_INFO, in->request_id,
                "world %" PRId64 " tick %" PRId64 ": intent %" PRId64 " (%s) of company %" PRId64
                " %s%s",
                ctx->world->id, ctx->tick, in->id, in->kind, in->company_id,
                in->status == INTENT_APPLIED ? "applied" : "rejected: ",
                in->status == INTENT_APPLIED ? "" : in->reason);
    }
    metrics_add(ctx->metrics, ctx->tm->applied, (uint64_t)applied);
    metrics_add(ctx->metrics, ctx->tm->rejected, (uint64_t)(ctx->nintents - applied));
}

const struct tick_phase tick_phase_intents = {
    .name = "intents",
    .input = input,
    .step = step,
    .persist = persist,
    .commit = commit,
};
