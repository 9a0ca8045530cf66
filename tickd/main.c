/*
 * tickd/main.c - the tick daemon: owns the running worlds and ticks each on
 * its own absolute schedule.
 *
 *   tickd                 run (foreground; systemd Type=notify)
 *   tickd --config-keys   print the configuration table (Markdown)
 *   tickd --version
 *
 * SIGTERM/SIGINT finish the tick in progress, then exit.  Under systemd,
 * READY=1 is sent once connected, WATCHDOG=1 after every committed tick and
 * at least once a second while waiting, and STATUS= describes the last tick.
 * Without systemd the notifications are no-ops.
 */
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "pub.h"
#include "sched.h"
#include "tick.h"
#include "world.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#ifndef BT_VERSION
#define BT_VERSION "dev"
#endif

#define MAX_WORLDS 64
#define RELOAD_WORLDS_S 5
/* Longest sleep without feeding the watchdog or checking for reloads. */
#define IDLE_SLICE_NS 1000000000LL

struct tickd {
    struct config cfg;
    struct db db;
    struct pub pub;
    struct metrics *metrics;
    struct arena arena;
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

DB_STMT(q_running, "SELECT id, tick, tick_ms, name, seed FROM worlds WHERE status = 'running' "
                   "ORDER BY id");

static int find_world(const struct tickd *td, int64_t id)
{
    int i;

    for (i = 0; i < td->nworlds; i++)
        if (td->worlds[i].id == id)
            return i;
    return -1;
}

/* Adds running worlds not yet scheduled (their first tick is one interval
 * from now); keeps the schedule of the known ones. */
static int load_worlds(struct tickd *td, struct bt_err *err)
{
    PGresult *r = db_exec(&td->db, &td->arena, &q_running, 0, NULL, err);
    int64_t now = sched_now_ns();
    int i;

    if (!r)
        return BT_ERR;
    for (i = 0; i < PQntuples(r) && td->nworlds < MAX_WORLDS; i++) {
        int64_t id = db_i64(r, i, 0);
        int k = find_world(td, id);
        if (k >= 0) {
            sched_set_interval(&td->sched[k], now, (int64_t)db_i64(r, i, 2) * 1000000);
            continue;
        }
        k = td->nworlds;
        td->worlds[k].model = calloc(1, sizeof(struct world_model));
        if (!td->worlds[k].model ||
            world_model_load(td->worlds[k].model, &td->db, &td->arena, id, err) != BT_OK) {
            /* Not scheduled; the next reload tries again. */
            log_msg(LOGL_ERROR, NULL, "world %" PRId64 ": cannot load the world model: %s", id,
                    err->internal[0] ? err->internal : err->detail);
            free(td->worlds[k].model);
            td->worlds[k].model = NULL;
            err_clear(err);
            continue;
        }
        td->nworlds++;
        td->worlds[k].id = id;
        td->worlds[k].seed = (uint64_t)db_i64(r, i, 4);
        td->worlds[k].tick = db_i64(r, i, 1);
        td->worlds[k].tick_ms = (int)db_i64(r, i, 2);
        snprintf(td->worlds[k].name, sizeof(td->worlds[k].name), "%s", db_str(r, i, 3));
        sched_init(&td->sched[k], now, (int64_t)td->worlds[k].tick_ms * 1000000);
        tick_metrics_init(&td->tm[k], td->metrics, id);
        log_msg(LOGL_INFO, NULL, "world %" PRId64 " (%s) at tick %" PRId64 ", every %d ms", id,
                td->worlds[k].name, td->worlds[k].tick, td->worlds[k].tick_ms);
    }
    arena_reset(&td->arena);
    return BT_OK;
}

static int next_due(const struct tickd *td)
{
    int i, best = -1;

    for (i = 0; i < td->nworlds; i++)
        if (best < 0 || td->sched[i].next_ns < td->sched[best].next_ns)
            best = i;
    return best;
}

static void run_one(struct tickd *td, int k)
{
    struct tick_ctx ctx;
    struct bt_err err;
    int64_t start = sched_now_ns();
    uint64_t overruns = td->sched[k].overruns, skipped = td->sched[k].skipped;

    memset(&ctx, 0, sizeof(ctx));
    err_clear(&err);
    ctx.db = &td->db;
    ctx.pub = &td->pub;
    ctx.arena = &td->arena;
    ctx.metrics = td->metrics;
    ctx.tm = &td->tm[k];
    ctx.world = &td->worlds[k];
    ctx.threads = td->cfg.tick_threads;
    ctx.lateness_us = (start - td->sched[k].next_ns) / 1000;
    if (tick_run(&ctx, &err) != BT_OK) {
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

static int run(struct tickd *td)
{
    struct bt_err err;
    struct sigaction sa;
    int64_t next_reload = 0;
    char dir[CONFIG_STR + 16];

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    err_clear(&err);
    arena_init(&td->arena, 0);
    snprintf(dir, sizeof(dir), "%s/metrics", td->cfg.run_dir);
    td->metrics = metrics_open(dir, "tickd.0", &err);
    if (!td->metrics)
        log_msg(LOGL_WARN, NULL, "metrics disabled: %s", err.internal);
    if (pub_open(&td->pub, td->cfg.nchan_pub_url, 2000, &err) != BT_OK)
        bt_die("publisher: %s", err.internal);
    while (!stop_requested && db_open(&td->db, td->cfg.pg_dsn, td->cfg.pg_timeout_ms, &err)) {
        log_msg(LOGL_WARN, NULL, "waiting for postgres: %s", err.internal);
        err_clear(&err);
        sleep(1);
    }
    sd_notify(0, "READY=1\nSTATUS=connected");
    log_msg(LOGL_INFO, NULL, "tickd %s started", BT_VERSION);
    while (!stop_requested) {
        int k;
        if (sched_now_ns() >= next_reload) {
            err_clear(&err);
            if (load_worlds(td, &err) != BT_OK)
                log_msg(LOGL_WARN, NULL, "cannot load worlds: %s", err.internal);
            next_reload = sched_now_ns() + (int64_t)RELOAD_WORLDS_S * 1000000000;
        }
        k = next_due(td);
        if (k < 0 || td->sched[k].next_ns - sched_now_ns() > IDLE_SLICE_NS) {
            /* Nothing due within a slice: wake at least once a slice so
             * world reloads happen on time and the systemd watchdog is
             * fed while idle or between long ticks (the watchdog guards
             * against a hung loop, see systemd/bt-tickd.service). */
            sd_notify(0, "WATCHDOG=1");
            sleep(1);
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
    for (int i = 0; i < td->nworlds; i++) {
        world_model_free(td->worlds[i].model);
        free(td->worlds[i].model);
    }
    pub_close(&td->pub);
    db_close(&td->db);
    metrics_close(td->metrics);
    arena_free(&td->arena);
    return 0;
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
    if (argc > 1 && strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: tickd [run] | --config-keys | --version\n");
        return 2;
    }
    if (config_load(&td.cfg, NULL, &err) != BT_OK)
        bt_die("configuration: %s", err.detail);
    log_level_parse(td.cfg.log_level, &lvl);
    log_init("tickd", lvl);
    return run(&td);
}
