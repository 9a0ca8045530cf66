/*
 * tick.h - one tick of one world: the phase registry, the intent-kind
 * registry and their shared context.
 *
 * A world's simulation state lives in memory between ticks, split among
 * phases (struct tick_phase, listed in order in tickd/phases.c).  A tick:
 *
 *   BEGIN -> fence check + advance the clock -> every phase's input()
 *   (claiming intents) -> every phase's step() (pure, deterministic) ->
 *   every phase's persist() -> tick record + snapshot row -> COMMIT ->
 *   every phase's commit() -> messages built and handed to the outbox
 *   (sent by its thread; the tick does not wait for nginx)
 *
 * If anything fails before COMMIT returns, the transaction is rolled back
 * and the world's in-memory state is thrown away and reloaded from
 * PostgreSQL, so memory never diverges from what was committed.
 *
 * Adding a game feature = adding a phase to tickd/phases.c or an intent
 * kind to its table; the loop here never changes.
 */
#ifndef BT_TICK_H
#define BT_TICK_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "db.h"
#include "err.h"
#include "metrics.h"

struct json_object;
struct outbox;
struct outbox_batch;
struct tick_ctx;

#define TICK_MAX_PHASES  16
#define TICK_MAX_INTENTS 20000 /* claimed per tick; the rest wait for the next */
#define TICK_HASH_BYTES  32
#define TICK_REASON_LEN  160

struct tick_metrics {
    struct metrics_hist total, compute, commit, publish, lateness;
    int ticks, overruns, skipped, failures, current_tick, applied, rejected;
};

struct world {
    int64_t id;
    int64_t tick; /* last committed tick (of the in-memory state) */
    int64_t seed;
    int tick_ms;
    char name[64];
    int64_t fence;                /* fencing token held for this world (0 = none) */
    bool loaded;                  /* state[] is valid */
    bool snapshot_due;            /* store a full snapshot at the next commit */
    void *state[TICK_MAX_PHASES]; /* per phase, owned by the phase */
};

enum intent_status { INTENT_QUEUED = 0, INTENT_APPLIED, INTENT_REJECTED };

/* One claimed intent.  Strings and args are borrowed from the tick arena. */
struct tick_intent {
    int64_t id;
    int64_t company_id;
    const char *kind;
    const char *args_text;    /* canonical jsonb text, hashed as input */
    struct json_object *args; /* parsed args (NULL if unparsable) */
    const char *request_id;
    enum intent_status status;
    char reason[TICK_REASON_LEN];
    enum intent_status recorded; /* replay: the outcome stored in the database */
};

struct tick_ctx {
    struct db *db;
    struct outbox *outbox; /* publisher (tickd/outbox.h); NULL: nothing is published */
    struct arena *arena;   /* per tick, reset after */
    struct metrics *metrics;
    struct tick_metrics *tm;
    struct world *world;
    int threads;
    int snapshot_every;
    int history_ticks;   /* mining history retention (BT_HISTORY_TICKS) */
    bool replay;         /* recompute only: inputs from the record, no writes */
    int64_t tick;        /* the tick being computed */
    int64_t lateness_us; /* how late this tick started */
    int64_t started_us;
    /* compute: claim, steps, hash; commit: persist, record, COMMIT;
     * publish: building the messages (sent by the outbox thread) */
    int64_t compute_us, commit_us, publish_us;
    int64_t persist_us; /* the persist part of commit */
    /* where the time went (debug line): per phase input/step/persist, the
     * state hash and the tick record inside compute/commit */
    int64_t phase_us[TICK_MAX_PHASES][3];
    int64_t hash_us, record_us;
    char time_iso[40]; /* wall-clock time of the commit */
    /* inputs of this tick, in apply order */
    struct tick_intent *intents;
    int nintents;
    /* companies whose state or intents changed this tick (for publishing) */
    int64_t *touched;
    int ntouched, touched_cap;
    /* companies with a live subscriber (lib/presence.h), sorted: only they
     * get player:update and alerts; online_known false: every touched one.
     * Filled by presence(ctx, presence_arg) after the commit, right before
     * publishing (never before the claim: a player who subscribed and then
     * sent an intent is present when the tick that applied it publishes). */
    const int64_t *online;
    int nonline;
    bool online_known;
    void (*presence)(struct tick_ctx *ctx, void *arg);
    void *presence_arg;
    /* alerts raised this tick (published after the commit, never replayed) */
    struct tick_alert *alerts;
    int nalerts, alerts_cap;
    uint8_t inputs_hash[TICK_HASH_BYTES];
    uint8_t state_hash[TICK_HASH_BYTES];
};

/* An alert for a company's private channel (see tick_alert). */
struct tick_alert {
    int64_t company_id;
    const char *code;           /* static string, e.g. "rig_failure" */
    const char *level;          /* "info", "warning" or "critical" */
    struct json_object *detail; /* owned by the tick's arena */
};

/* A phase of the tick.  Every callback is optional.  `state` is the phase's
 * slot in world->state[]: load/from_json allocate it, free releases it. */
struct tick_phase {
    const char *name;
    /* Loads the phase's state of ctx->world from PostgreSQL (start-up and
     * after a failed tick). */
    int (*load)(struct tick_ctx *ctx, void **state, struct bt_err *err);
    /* Gathers this tick's inputs inside the transaction (ctx->replay: from
     * the recorded inputs instead). */
    int (*input)(struct tick_ctx *ctx, void *state, struct bt_err *err);
    /* Advances the state by one tick: deterministic, no I/O.  An error here
     * is a bug or resource exhaustion and fails the tick. */
    int (*step)(struct tick_ctx *ctx, void *state, struct bt_err *err);
    /* Writes what changed, inside the tick's transaction. */
    int (*persist)(struct tick_ctx *ctx, void *state, struct bt_err *err);
    /* Called once the transaction committed: forget what was pending. */
    void (*commit)(struct tick_ctx *ctx, void *state);
    /* Adds the canonical serialization of the whole state to h. */
    void (*hash)(const void *state, crypto_generichash_state *h);
    /* Adds this phase's public fields to the tick:update payload. */
    void (*payload)(const void *state, struct json_object *payload);
    /* Adds the company's private fields to its player:update payload. */
    void (*company)(const void *state, int64_t company_id, struct json_object *payload);
    /* Full snapshot of the state and back (replay starts from it). */
    struct json_object *(*to_json)(const void *state);
    int (*from_json)(struct tick_ctx *ctx, void **state, struct json_object *j, struct bt_err *err);
    void (*free)(void *state);
};

/* An intent kind: apply() validates everything and either changes the state
 * (BT_OK: applied) or leaves it untouched and writes why into `reason`
 * (BT_ERR: rejected).  Deterministic: no I/O, no clock, no globals. */
struct intent_kind {
    const char *name;
    int (*apply)(struct tick_ctx *ctx, struct tick_intent *in, char *reason, size_t reason_len);
};

/* The registries (tickd/phases.c). */
extern const struct tick_phase *const tick_phases[];
extern const size_t tick_nphases;
extern const struct intent_kind *const intent_kinds[];
extern const size_t intent_nkinds;

const struct intent_kind *tick_intent_kind(const char *name);

/* The state of `phase` in the world being ticked (NULL if not registered). */
void *tick_state(const struct tick_ctx *ctx, const struct tick_phase *phase);

/* Marks a company as changed this tick (its player:update is published). */
void tick_touch(struct tick_ctx *ctx, int64_t company_id);

/* Raises an alert for a company: published as an `alert` message on
 * company.<cid> after the tick committed, with payload {code, level, ...the
 * keys of detail}.  Takes ownership of detail (may be NULL).  Alerts are a
 * notification, not state: they are not hashed and a replay drops them.
 * Best effort on memory exhaustion (the state is committed anyway). */
void tick_alert(struct tick_ctx *ctx, int64_t company_id, const char *code, const char *level,
                struct json_object *detail);

/* Canonical hashing helpers: fixed-width little-endian integers and
 * length-prefixed strings, so that field boundaries are unambiguous. */
void tick_hash_i64(crypto_generichash_state *h, int64_t v);
void tick_hash_str(crypto_generichash_state *h, const char *s);
/* Order-independent digest of a set of entities (AdHash style): each
 * entity's fields are folded into two 64-bit words with the SplitMix64
 * finaliser and the words of all entities are summed, so an entity can be
 * added without rehashing the others.  It detects divergence
 * between two runs; it is not meant to resist a forger. */
struct tick_lanes {
    uint64_t a, b;
};
void tick_lanes_add(struct tick_lanes *l, const int64_t *v, int n);
/* Packs the bytes of s (length first) into v[n..], returns the new n;
 * v must have room for 1 + strlen(s) / 8 + 1 more words. */
int tick_lanes_str(int64_t *v, int n, const char *s);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void tick_hex(const uint8_t *b, size_t n, char *out);

void tick_metrics_init(struct tick_metrics *tm, struct metrics *m, int64_t world_id);

/* Loads every phase's state of world (freeing any previous state). */
int tick_world_load(struct tick_ctx *ctx, struct bt_err *err);
/* Frees every phase's state of world. */
void tick_world_free(struct world *w);
/* Restores every phase from a full snapshot (object keyed by phase name). */
int tick_world_from_json(struct tick_ctx *ctx, struct json_object *j, struct bt_err *err);
struct json_object *tick_world_to_json(const struct world *w);
/* Hash of the whole state of w into out. */
void tick_world_hash(const struct world *w, uint8_t out[TICK_HASH_BYTES]);

/* Runs one tick of ctx->world.  On success the world's tick advanced, was
 * committed, and messages were published (publishing failures are logged,
 * never undo the commit).  On failure the world's state is reloaded.
 * Returns TICK_FENCED when another tickd owns the world now. */
#define TICK_FENCED 2
int tick_run(struct tick_ctx *ctx, struct bt_err *err);

/* Replay mode: computes tick ctx->tick from the recorded inputs, without
 * writing; fills ctx->inputs_hash and ctx->state_hash. */
int tick_replay_one(struct tick_ctx *ctx, struct bt_err *err);

#endif
