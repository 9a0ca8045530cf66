/*
 * tickd/main.c - the tick daemon: takes a fair share of the running worlds
 * (leases in Redis, fencing in PostgreSQL) and ticks each on its own
 * absolute schedule; also the replay and verify tools.
 *
 *   tickd [run]           run (foreground; systemd Type=notify)
 *   tickd replay --world W --from SNAPSHOT_TICK --to TICK
 *   tickd verify --world W [--from SNAPSHOT_TICK] [--to TICK]
 *   tickd --config-keys   print the configuration table (Markdown)
 *   tickd --version
 *
 * Ownership: every ASSIGN_MS the daemon announces itself, renews the leases
 * of its worlds (dropping any it lost), takes free worlds while it holds
 * fewer than its share (ceil(running worlds / live tickds)) and gives one
 * up when it holds more.  A lease lives LEASE_INTERVALS tick intervals, so
 * a dead owner's world is taken over within 3 intervals.
 *
 * SIGTERM/SIGINT finish the tick in progress, release the leases, then
 * exit.  Under systemd, READY=1 is sent once connected, WATCHDOG=1 after
 * every committed tick and after every assignment pass (so an idle daemon,
 * or one with long tick intervals, still proves its loop is alive), and
 * STATUS= describes the last tick.
 */
#include "config.h"
#include "db.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "presence.h"
#include "rds.h"
#include "replay.h"
#include "sched.h"
#include "tick.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#ifndef BT_VERSION
#define BT_VERSION "dev"
#endif

#define MAX_WORLDS      64
#define ASSIGN_MS       200
#define LEASE_INTERVALS 2
#define LEASE_MIN_MS    1000
#define MEMBER_TTL_MS   3000
#define OUTBOX_DRAIN_MS 5000 /* at exit: time to send what is queued */

struct tickd {
    struct config cfg;
    struct db db;
    struct rds rds;
    int64_t *online; /* present companies of the world being ticked (lib/presence.h) */
    int nonline, online_cap;
    struct outbox *outbox; /* publisher thread */
    struct metrics *metrics;
    struct arena arena;
    char me[80];
    int nworlds;
    struct world worlds[MAX_WORLDS];
    struct sched sched[MAX_WORLDS];
    struct tick_metrics tm[MAX_WORLDS];
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

DB_STMT(q_running, "SELECT id, tick_ms, fence FROM worlds WHERE status = 'running' ORDER BY id");

static int find_world(const struct tickd *td, int64_t id)
{
    int i;

    for (i = 0; i < td->nworlds; i++)
        if (td->worlds[i].id == id)
            return i;
    return -1;
}

static int lease_ms(int tick_ms)
{
    return tick_ms * LEASE_INTERVALS > LEASE_MIN_MS ? tick_ms * LEASE_INTERVALS : LEASE_MIN_MS;
}

static void drop_world(struct tickd *td, int k, const char *why)
{
    struct bt_err err;

    err_clear(&err);
    log_msg(LOGL_INFO, NULL, "world %" PRId64 ": no longer ticked here (%s)", td->worlds[k].id,
            why);
    lease_release(&td->rds, &td->arena, td->worlds[k].id, td->me, &err);
    tick_world_free(&td->worlds[k]);
    td->nworlds--;
    if (k != td->nworlds) {
        td->worlds[k] = td->worlds[td->nworlds];
        td->sched[k] = td->sched[td->nworlds];
        td->tm[k] = td->tm[td->nworlds];
    }
}

static void add_world(struct tickd *td, int64_t id, int tick_ms, int64_t token)
{
    int k = td->nworlds++;

    memset(&td->worlds[k], 0, sizeof(td->worlds[k]));
    td->worlds[k].id = id;
    td->worlds[k].tick_ms = tick_ms;
    td->worlds[k].fence = token;
    sched_init(&td->sched[k], sched_now_ns(), (int64_t)tick_ms * 1000000);
    tick_metrics_init(&td->tm[k], td->metrics, id);
    log_msg(LOGL_INFO, NULL, "world %" PRId64 ": taken with fencing token %" PRId64 ", every %d ms",
            id, token, tick_ms);
}

/* One assignment pass (see the comment atop this file). */
static void assign_worlds(struct tickd *td)
{
    struct bt_err err;
    PGresult *r;
    int i, k, live = 1, n, share;

    err_clear(&err);
    r = db_exec(&td->db, &td->arena, &q_running, 0, NULL, &err);
    if (!r) {
        log_msg(LOGL_WARN, NULL, "cannot list worlds: %s", err.internal);
        goto out;
    }
    if (lease_heartbeat(&td->rds, &td->arena, td->me, MEMBER_TTL_MS, &live, &err) != BT_OK) {
        /* Without Redis no lease can be renewed or taken; the worlds we
         * hold keep ticking until a successor's token fences us out. */
        log_msg(LOGL_WARN, NULL, "leases unavailable: %s", err.internal);
        goto out;
    }
    n = PQntuples(r);
    share = (n + live - 1) / live;
    /* Renew ours; forget worlds that stopped running or that we lost. */
    for (k = td->nworlds - 1; k >= 0; k--) {
        int64_t tok = 0;
        int row = -1;
        for (i = 0; i < n; i++)
            if (db_i64(r, i, 0) == td->worlds[k].id)
                row = i;
        if (row < 0) {
            drop_world(td, k, "not running");
            continue;
        }
        err_clear(&err);
        if (lease_acquire(&td->rds, &td->arena, td->worlds[k].id, td->me,
                          lease_ms((int)db_i64(r, row, 1)), &tok, &err) != BT_OK)
            continue;
        if (tok > 0 && tok != td->worlds[k].fence && tok > db_i64(r, row, 2)) {
            /* Our lease ran out during a long tick and was free: we hold it
             * again with a newer token.  The state in memory stays: if
             * anyone committed a tick in between, the next tick sees the
             * committed tick differ from memory's and reloads. */
            log_msg(LOGL_INFO, NULL,
                    "world %" PRId64 ": lease expired and re-taken, token %" PRId64,
                    td->worlds[k].id, tok);
            td->worlds[k].fence = tok;
        }
        if (tok != td->worlds[k].fence)
            drop_world(td, k, "lease lost");
        else
            sched_set_interval(&td->sched[k], sched_now_ns(), db_i64(r, row, 1) * 1000000);
    }
    for (i = 0; i < n && td->nworlds < share && td->nworlds < MAX_WORLDS; i++) {
        int64_t id = db_i64(r, i, 0), tok = 0;
        if (find_world(td, id) >= 0)
            continue;
        err_clear(&err);
        if (lease_acquire(&td->rds, &td->arena, id, td->me, lease_ms((int)db_i64(r, i, 1)), &tok,
                          &err) != BT_OK ||
            tok == 0)
            continue;
        if (tok <= db_i64(r, i, 2)) {
            /* Redis lost its counter: lift it above the committed fence and
             * let the next pass take a fresh token. */
            lease_raise_fence(&td->rds, &td->arena, id, db_i64(r, i, 2), &err);
            lease_release(&td->rds, &td->arena, id, td->me, &err);
            continue;
        }
        add_world(td, id, (int)db_i64(r, i, 1), tok);
    }
    /* Rebalance slowly: one world per pass, the newest. */
    if (td->nworlds > share && live > 1) {
        int hi = 0;
        for (k = 1; k < td->nworlds; k++)
            if (td->worlds[k].id > td->worlds[hi].id)
                hi = k;
        drop_world(td, hi, "rebalancing");
    }
out:
    arena_reset(&td->arena);
}

static int next_due(const struct tickd *td)
{
    int i, best = -1;

    for (i = 0; i < td->nworlds; i++)
        if (best < 0 || td->sched[i].next_ns < td->sched[best].next_ns)
            best = i;
    return best;
}

/* The world's companies with a live subscriber, read when the tick
 * publishes (tick.h); unknown (Redis down): every touched company. */
static void fetch_presence(struct tick_ctx *ctx, void *arg)
{
    struct tickd *td = arg;
    struct bt_err perr;
    bool known = false;

    err_clear(&perr);
    if (presence_online(&td->rds, &td->arena, ctx->world->id, presence_now_ms(),
                        (int64_t)td->cfg.live_presence_s * 1000, &td->online, &td->nonline,
                        &td->online_cap, &known, &perr) != BT_OK)
        log_msg(LOGL_WARN, NULL, "world %" PRId64 ": presence unknown, publishing to all: %s %s",
                ctx->world->id, perr.detail, perr.internal);
    ctx->online_known = known;
    ctx->online = td->online;
    ctx->nonline = td->nonline;
}
static void run_one(struct tickd *td, int k)
{
    struct tick_ctx ctx;
    struct bt_err err;
    int64_t start = sched_now_ns();
    uint64_t overruns = td->sched[k].overruns, skipped = td->sched[k].skipped;
    int rc;

    memset(&ctx, 0, sizeof(ctx));
    err_clear(&err);
    ctx.db = &td->db;
    ctx.outbox = td->outbox;
    ctx.arena = &td->arena;
    ctx.metrics = td->metrics;
    ctx.tm = &td->tm[k];
    ctx.world = &td->worlds[k];
    ctx.threads = td->cfg.tick_threads;
    ctx.snapshot_every = td->cfg.snapshot_every;
    ctx.history_ticks = td->cfg.history_ticks;
    ctx.lateness_us = (start - td->sched[k].next_ns) / 1000;
    ctx.presence = fetch_presence;
    ctx.presence_arg = td;
    rc = tick_run(&ctx, &err);
    if (rc == TICK_FENCED) {
        arena_reset(&td->arena);
        drop_world(td, k, "fenced out by a newer owner");
        return;
    }
    if (rc != BT_OK) {
        log_msg(LOGL_ERROR, NULL, "world %" PRId64 ": tick failed: %s %s", ctx.world->id,
                err.detail, err.internal);
    } else {
        sd_notifyf(0, "WATCHDOG=1\nSTATUS=world %" PRId64 " tick %" PRId64 " in %.1f ms",
                   ctx.world->id, ctx.tick,
                   (double)(ctx.compute_us + ctx.commit_us + ctx.publish_us) / 1000.0);
    }
    arena_reset(&td->arena);
    sched_set_interval(&td->sched[k], sched_now_ns(), (int64_t)ctx.world->tick_ms * 1000000);
    sched_advance(&td->sched[k], sched_now_ns());
    metrics_add(td->metrics, td->tm[k].overruns, td->sched[k].overruns - overruns);
    metrics_add(td->metrics, td->tm[k].skipped, td->sched[k].skipped - skipped);
}

static void wait_until(int64_t deadline_ns)
{
    int64_t d = deadline_ns - sched_now_ns();
    struct timespec ts;

    if (d <= 0)
        return;
    ts.tv_sec = d / 1000000000;
    ts.tv_nsec = d % 1000000000;
    nanosleep(&ts, NULL);
}

static int run(struct tickd *td)
{
    struct bt_err err;
    struct sigaction sa;
    int64_t next_assign = 0;
    char dir[CONFIG_STR + 16], host[64] = "host";

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    err_clear(&err);
    arena_init(&td->arena, 0);
    gethostname(host, sizeof(host) - 1);
    if (td->cfg.tickd_id[0])
        snprintf(td->me, sizeof(td->me), "%s", td->cfg.tickd_id);
    else
        snprintf(td->me, sizeof(td->me), "%s:%d", host, (int)getpid());
    snprintf(dir, sizeof(dir), "%s/metrics", td->cfg.run_dir);
    {
        char name[96];
        snprintf(name, sizeof(name), "tickd.%s", td->me);
        for (char *c = name; *c; c++)
            if (*c == '/' || *c == ':')
                *c = '_';
        td->metrics = metrics_open(dir, name, &err);
    }
    if (!td->metrics)
        log_msg(LOGL_WARN, NULL, "metrics disabled: %s", err.internal);
    td->outbox = outbox_start(td->cfg.nchan_pub_url, 2000, td->metrics, &err);
    if (!td->outbox)
        bt_die("publisher: %s", err.internal);
    err_clear(&err);
    if (rds_open(&td->rds, td->cfg.redis_host, td->cfg.redis_port, td->cfg.redis_password,
                 td->cfg.redis_timeout_ms, td->cfg.redis_prefix, &err) != BT_OK)
        log_msg(LOGL_WARN, NULL, "redis: %s (retrying)", err.internal);
    err_clear(&err);
    while (!stop_requested && db_open(&td->db, td->cfg.pg_dsn, td->cfg.tickd_pg_timeout_ms, &err)) {
        log_msg(LOGL_WARN, NULL, "waiting for postgres: %s", err.internal);
        err_clear(&err);
        sleep(1);
    }
    sd_notify(0, "READY=1\nSTATUS=connected");
    log_msg(LOGL_INFO, NULL, "tickd %s started as %s", BT_VERSION, td->me);
    while (!stop_requested) {
        int k;
        if (sched_now_ns() >= next_assign) {
            assign_worlds(td);
            sd_notify(0, "WATCHDOG=1");
            next_assign = sched_now_ns() + (int64_t)ASSIGN_MS * 1000000;
        }
        k = next_due(td);
        if (k < 0 || td->sched[k].next_ns > next_assign) {
            wait_until(next_assign);
            continue;
        }
        if (!sched_wait(&td->sched[k]) && errno == EINTR)
            continue;
        if (stop_requested)
            break;
        run_one(td, k);
    }
    sd_notify(0, "STOPPING=1");
    log_msg(LOGL_INFO, NULL, "tickd stopping");
    while (td->nworlds > 0)
        drop_world(td, td->nworlds - 1, "stopping");
    err_clear(&err);
    lease_leave(&td->rds, &td->arena, td->me, &err);
    arena_reset(&td->arena);
    outbox_stop(td->outbox, OUTBOX_DRAIN_MS);
    rds_close(&td->rds);
    free(td->online);
    db_close(&td->db);
    metrics_close(td->metrics);
    arena_free(&td->arena);
    return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return BT_ERR;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return BT_ERR;
    *out = v;
    return BT_OK;
}

static int usage(void)
{
    fprintf(stderr, "usage: tickd [run]\n"
                    "       tickd replay --world W --from SNAPSHOT_TICK --to TICK\n"
                    "       tickd verify --world W [--from SNAPSHOT_TICK] [--to TICK]\n"
                    "       tickd --config-keys | --version\n");
    return 2;
}

/* tickd replay|verify: exit 0 = every hash matched, 1 = divergence, 2 = error. */
static int replay_cli(struct tickd *td, int argc, char **argv)
{
    struct replay_opts o = {-1, -1, -1, strcmp(argv[1], "verify") == 0};
    struct bt_err err;
    int i, rc;

    for (i = 2; i + 1 < argc; i += 2) {
        int64_t *slot = strcmp(argv[i], "--world") == 0  ? &o.world
                        : strcmp(argv[i], "--from") == 0 ? &o.from
                        : strcmp(argv[i], "--to") == 0   ? &o.to
                                                         : NULL;
        if (!slot || parse_i64(argv[i + 1], slot) != BT_OK)
            return usage();
    }
    if (i != argc || o.world < 0 || (!o.verify && (o.from < 0 || o.to < 0)))
        return usage();
    err_clear(&err);
    if (db_open(&td->db, td->cfg.pg_dsn, td->cfg.tickd_pg_timeout_ms, &err) != BT_OK) {
        fprintf(stderr, "postgres: %s\n", err.internal);
        return 2;
    }
    rc = replay_run(&td->db, &o, stdout);
    db_close(&td->db);
    return rc;
}

int main(int argc, char **argv)
{
    static struct tickd td;
    struct bt_err err;
    enum log_level lvl = LOGL_INFO;

    err_clear(&err);
    log_init("tickd", LOGL_INFO);
    if (argc > 1 && strcmp(argv[1], "--config-keys") == 0) {
        config_print_table(stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("tickd %s\n", BT_VERSION);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "run") != 0 && strcmp(argv[1], "replay") != 0 &&
        strcmp(argv[1], "verify") != 0)
        return usage();
    if (sodium_init() < 0)
        bt_die("libsodium cannot be initialised");
    if (config_load(&td.cfg, NULL, &err) != BT_OK)
        bt_die("configuration: %s", err.detail);
    log_level_parse(td.cfg.log_level, &lvl);
    log_init("tickd", lvl);
    if (argc > 1 && strcmp(argv[1], "run") != 0)
        return replay_cli(&td, argc, argv);
    return run(&td);
}
