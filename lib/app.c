/*
 * app.c - FastCGI pool, responder loop and request pipeline (see app.h).
 *
 * Process model (like php-fpm, simplified): the supervisor opens the socket
 * and forks the workers; each worker blocks in FCGX_Accept_r on the shared
 * socket, so the kernel spreads connections.  libfcgi handles one connection
 * per worker at a time, which is why nginx must not keep FastCGI connections
 * alive (see nginx/).
 *
 * Shutdown: the supervisor forwards SIGTERM to the workers.  A worker's
 * handler only sets a flag; the accept call was set up to fail on EINTR
 * (FCGI_FAIL_ACCEPT_ON_INTR), so an idle worker leaves at once and a busy one
 * finishes its request first.  A signal can land just before accept() is
 * entered; the supervisor therefore repeats SIGTERM every second and uses
 * SIGKILL only after APP_STOP_GRACE_S.  Workers also get SIGTERM if the
 * supervisor dies (PR_SET_PDEATHSIG), so nothing is left orphaned.
 */
#include "app.h"
#include "auth.h"
#include "log.h"
#include "ratelimit.h"

#include <errno.h>
#include <fcgiapp.h>
#include <json-c/json.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define APP_STOP_GRACE_S 10
#define APP_BACKLOG      1024
#define APP_ARENA_MAX    (8 * 1024 * 1024)
#define APP_OUT_MAX      (8 * 1024 * 1024)
#define APP_STATUS_SLOTS 10
#define APP_MAX_WORKERS  256

struct app_route_metrics {
    struct metrics_hist hist;
    int nstatus;
    int status[APP_STATUS_SLOTS];
    int ids[APP_STATUS_SLOTS];
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    BT_UNUSED(sig);
    stop_requested = 1;
}

static void on_child(int sig)
{
    BT_UNUSED(sig); /* only wakes sigsuspend in the supervisor */
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls must see EINTR */
    sigaction(sig, &sa, NULL);
}

bool app_is_loopback(const char *addr)
{
    return !addr || !*addr || strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
           strcmp(addr, "unix:") == 0;
}

int app_healthz(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    struct json_object *o = json_object_new_object();

    BT_UNUSED(req);
    BT_UNUSED(err);
    json_object_object_add(o, "status", json_object_new_string("ok"));
    json_object_object_add(o, "service", json_object_new_string(app->svc->name));
    json_object_object_add(o, "version", json_object_new_string(BT_VERSION));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    http_resp_json(resp, 200, o);
    return BT_OK;
}

/* ---- metrics ---- */

static void route_label(const struct route *r, char *out, size_t n)
{
    if (r)
        snprintf(out, n, "%s %s", r->method, r->pattern);
    else
        snprintf(out, n, "unmatched");
}

static void setup_metrics(struct app *app)
{
    char dir[CONFIG_STR + 16], name[64], labels[256], rl[160];
    struct bt_err err;
    size_t i;

    err_clear(&err);
    snprintf(dir, sizeof(dir), "%s/metrics", app->cfg.run_dir);
    snprintf(name, sizeof(name), "%s.%d", app->svc->name, app->worker);
    app->metrics = metrics_open(dir, name, &err);
    if (!app->metrics)
        log_msg(LOGL_WARN, NULL, "metrics disabled: %s", err.internal);
    app->rmetrics = calloc(app->svc->nroutes + 1, sizeof(*app->rmetrics));
    if (!app->rmetrics)
        bt_die("out of memory");
    for (i = 0; i <= app->svc->nroutes; i++) {
        route_label(i < app->svc->nroutes ? &app->svc->routes[i] : NULL, rl, sizeof(rl));
        snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\"", app->svc->name, rl);
        metrics_histogram(app->metrics, "bt_http_request_duration_seconds", labels,
                          &app->rmetrics[i].hist);
    }
}

static void record_metrics(struct app *app, const struct route *route, int status, int64_t dur_us)
{
    size_t idx = route ? (size_t)(route - app->svc->routes) : app->svc->nroutes;
    struct app_route_metrics *rm;
    char labels[256], rl[160];
    int i, id = METRICS_NONE;

    if (!app->metrics || !app->rmetrics)
        return;
    rm = &app->rmetrics[idx];
    metrics_observe(app->metrics, &rm->hist, dur_us > 0 ? (uint64_t)dur_us : 0);
    for (i = 0; i < rm->nstatus; i++)
        if (rm->status[i] == status)
            id = rm->ids[i];
    if (id == METRICS_NONE) {
        route_label(route, rl, sizeof(rl));
        snprintf(labels, sizeof(labels), "service=\"%s\",route=\"%s\",status=\"%d\"",
                 app->svc->name, rl, status);
        id = metrics_counter(app->metrics, "bt_http_requests_total", labels);
        if (rm->nstatus < APP_STATUS_SLOTS) {
            rm->status[rm->nstatus] = status;
            rm->ids[rm->nstatus++] = id;
        }
    }
    metrics_add(app->metrics, id, 1);
}

/* ---- the pipeline ---- */

/* The caller's rate-limit key for this route, or NULL (with *limit and
 * *window set) when the route is not limited. */
static const char *rate_key(struct app *app, struct http_req *req, int *limit, int *window,
                            struct bt_err *err)
{
    const struct route *r = req->route;
    const char *key;

    *limit = r->rate_limit ? r->rate_limit : app->svc->rate_limit ? app->svc->rate_limit : 120;
    *window = r->rate_window_s          ? r->rate_window_s
              : app->svc->rate_window_s ? app->svc->rate_window_s
                                        : 60;
    if ((r->flags & ROUTE_NO_RATE) || *limit <= 0)
        return NULL;
    *limit =
        (int)((long)*limit * app->cfg.rate_scale > 1000000000 ? 1000000000
                                                              : (long)*limit * app->cfg.rate_scale);
    if (req->who.authenticated)
        key = rds_key(&app->rds, req->arena, "rl:%s:%s:u%lld", app->svc->name, r->pattern,
                      (long long)req->who.user_id);
    else
        key = rds_key(&app->rds, req->arena, "rl:%s:%s:ip:%s", app->svc->name, r->pattern,
                      req->remote_addr);
    if (!key)
        err_internal(err, "out of memory");
    return key;
}

/* Authentication and the rate limit: the token is verified locally, then
 * the ban check and the rate-limit hit share one Redis round trip.  Errors
 * come in this order: 401 token, 403 banned, 403 not admin, 429. */
static int gate(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const struct route *r = req->route;
    bool auth = (r->flags & (ROUTE_AUTH | ROUTE_ADMIN)) != 0;
    struct auth_ban_req bq;
    struct ratelimit_req rq;
    struct ratelimit_result res;
    struct rds_call calls[2];
    int n = 0, limit, window, ban = -1, rl = -1;
    const char *key;

    if (auth && auth_bearer(app, req, err) != BT_OK) {
        if (err->status == 401)
            http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"bitcoin-tycoon\"");
        return BT_ERR;
    }
    key = rate_key(app, req, &limit, &window, err);
    if (!key && err_is_set(err))
        return BT_ERR;
    if (auth)
        auth_ban_call(app, &bq, req->who.user_id, &calls[ban = n++]);
    if (key)
        ratelimit_call(&rq, key, window, &calls[rl = n++]);
    if (n && rds_eval_pipe(&app->rds, req->arena, calls, n, err) != BT_OK)
        return BT_ERR;
    if (ban >= 0 && auth_ban_reply(app, req->who.user_id, calls[ban].reply, err) != BT_OK)
        return BT_ERR;
    if ((r->flags & ROUTE_ADMIN) && strcmp(req->who.role, "admin") != 0)
        return err_set(err, 403, "forbidden", "this action requires the admin role");
    if (rl >= 0) {
        if (ratelimit_reply(calls[rl].reply, limit, &res, err) != BT_OK)
            return BT_ERR;
        if (!res.allowed)
            return ratelimit_error(&res, err);
    }
    return BT_OK;
}

static int run_route(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct bt_err *err)
{
    const struct route *r = req->route;

    if ((r->flags & ROUTE_LOOPBACK) && !app_is_loopback(req->remote_addr))
        return err_set(err, 403, "forbidden", "this endpoint is only served on loopback");
    if (gate(app, req, resp, err) != BT_OK)
        return BT_ERR;
    if ((r->flags & ROUTE_JSON) && http_read_json(req, app->cfg.body_max, err) != BT_OK)
        return BT_ERR;
    return r->handler(app, req, resp, err);
}

static void log_access(struct app *app, struct http_req *req, int status, int64_t dur_us,
                       const struct bt_err *err)
{
    struct json_object *f;
    char rl[160];

    if (!log_enabled(status >= 500 ? LOGL_ERROR : LOGL_INFO))
        return; /* not built to be dropped (benchmarks and busy servers run at warn) */
    f = json_object_new_object();
    route_label(req->route, rl, sizeof(rl));
    json_object_object_add(f, "method", json_object_new_string(req->method));
    json_object_object_add(f, "route", json_object_new_string(rl));
    json_object_object_add(f, "status", json_object_new_int(status));
    json_object_object_add(f, "duration_ms", json_object_new_double((double)dur_us / 1000.0));
    if (req->who.authenticated)
        json_object_object_add(f, "user_id", json_object_new_int64(req->who.user_id));
    if (err_is_set(err) && err->internal[0])
        json_object_object_add(f, "error", json_object_new_string(err->internal));
    log_event(status >= 500 ? LOGL_ERROR : LOGL_INFO, req->request_id,
              status >= 500 ? "request failed" : "request", f);
    BT_UNUSED(app);
}

void app_handle(struct app *app, struct http_req *req, struct http_resp *resp)
{
    struct bt_err err;
    const char *allow = NULL;
    int rc;

    err_clear(&err);
    http_resp_init(resp);
    resp->status = 0;
    switch (route_match(app->svc->routes, app->svc->nroutes, req, &allow)) {
    case ROUTE_FOUND:
        rc = run_route(app, req, resp, &err);
        if (rc == BT_OK && resp->status == 0)
            rc = err_internal(&err, "handler for %s returned no answer", req->route->pattern);
        break;
    case ROUTE_METHOD_NOT_ALLOWED:
        if (allow)
            http_resp_header(resp, "Allow", allow);
        rc = err_set(&err, 405, "method-not-allowed", "%s is not allowed here", req->method);
        break;
    default:
        rc = err_set(&err, 404, "not-found", "no such endpoint");
        break;
    }
    if (rc != BT_OK) {
        if (!err_is_set(&err))
            err_internal(&err, "handler failed without an error");
        http_resp_problem(resp, req, &err);
    }
    {
        int64_t dur = http_now_us() - req->started_us;
        record_metrics(app, req->route, resp->status, dur);
        log_access(app, req, resp->status, dur, &err);
    }
}

/* ---- worker ---- */

static const char *fcgi_param(void *src, const char *name)
{
    return FCGX_GetParam(name, ((FCGX_Request *)src)->envp);
}

static long fcgi_read(void *src, char *buf, long n)
{
    return FCGX_GetStr(buf, (int)n, ((FCGX_Request *)src)->in);
}

static void serve_one(struct app *app, FCGX_Request *freq)
{
    struct http_req req;
    struct http_resp resp;

    http_req_init(&req, &app->arena, freq, fcgi_param, fcgi_read);
    app_handle(app, &req, &resp);
    if (http_render(&resp, &req, &app->out) != BT_OK) {
        static const char fallback[] =
            "Status: 500 Internal Server Error\r\nContent-Type: application/problem+json\r\n\r\n"
            "{\"type\":\"/problems/internal\",\"title\":\"Internal server error\",\"status\":500}";
        FCGX_PutStr(fallback, (int)sizeof(fallback) - 1, freq->out);
    } else {
        FCGX_PutStr(app->out.data, (int)app->out.len, freq->out);
    }
}

/* Ends a request and closes its connection.  libfcgi's own close (an
 * attached request) half-closes the socket, then waits up to 2 s for nginx
 * to close its end, which nginx does only once it has handled the answer:
 * under load the worker sat idle for that long after every request.  That
 * wait only guards against discarding input the peer is still sending (on
 * a unix socket, closing with unread input resets the connection).  nginx
 * writes the whole request, ending with the empty stdin record, before it
 * reads the answer, so once the input is consumed to that record nothing
 * is left to discard and the socket is closed at once (FCGX_Detach: close
 * without the wait).  An input error keeps libfcgi's careful close. */
static void finish_request(FCGX_Request *freq)
{
    char scratch[4096];

    while (FCGX_GetStr(scratch, (int)sizeof(scratch), freq->in) > 0)
        ;
    if (FCGX_HasSeenEOF(freq->in) && FCGX_GetError(freq->in) == 0)
        FCGX_Detach(freq);
    FCGX_Finish_r(freq);
}

static void open_connections(struct app *app)
{
    struct bt_err err;

    err_clear(&err);
    if ((app->svc->needs & APP_DB) &&
        db_open(&app->db, app->cfg.pg_dsn, app->cfg.pg_timeout_ms, &err) != BT_OK)
        log_msg(LOGL_WARN, NULL, "postgres not reachable at start (will retry): %s", err.internal);
    err_clear(&err);
    if ((app->svc->needs & APP_REDIS) &&
        rds_open(&app->rds, app->cfg.redis_host, app->cfg.redis_port, app->cfg.redis_password,
                 app->cfg.redis_timeout_ms, app->cfg.redis_prefix, &err) != BT_OK)
        log_msg(LOGL_WARN, NULL, "redis not reachable at start (will retry): %s", err.internal);
}

int app_init(struct app *app, const struct app_service *svc, int worker, struct bt_err *err)
{
    enum log_level lvl = LOGL_INFO;
    bool needs_keys = false;
    size_t i;

    memset(app, 0, sizeof(*app));
    app->svc = svc;
    app->worker = worker;
    if (config_load(&app->cfg, NULL, err) != BT_OK)
        return BT_ERR;
    log_level_parse(app->cfg.log_level, &lvl);
    log_init(svc->name, lvl);
    arena_init(&app->arena, APP_ARENA_MAX);
    buf_init(&app->out, APP_OUT_MAX);
    for (i = 0; i < svc->nroutes; i++)
        if (svc->routes[i].flags & (ROUTE_AUTH | ROUTE_ADMIN))
            needs_keys = true;
    if (needs_keys || svc->cli) {
        if (token_keys_load(&app->keys, &app->cfg, err) != BT_OK) {
            if (needs_keys)
                return BT_ERR;
            err_clear(err);
        } else {
            app->have_keys = true;
        }
    }
    open_connections(app);
    setup_metrics(app);
    if (svc->init && svc->init(app, err) != BT_OK)
        return BT_ERR;
    return BT_OK;
}

void app_fini(struct app *app)
{
    if (app->svc && app->svc->fini)
        app->svc->fini(app);
    arena_free(&app->arena);
    buf_free(&app->out);
    db_close(&app->db);
    rds_close(&app->rds);
    metrics_close(app->metrics);
    free(app->rmetrics);
    token_cache_free(&app->keys);
    sodium_memzero(&app->keys, sizeof(app->keys));
}

static int worker_main(const struct app_service *svc, int listen_fd, int slot, pid_t supervisor)
{
    struct app app;
    struct bt_err err;
    FCGX_Request freq;

    sigset_t none;

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* The supervisor died before prctl took effect.  Compare with its pid,
     * not with 1: an orphan is adopted by the nearest subreaper. */
    if (getppid() != supervisor)
        _exit(0);
    install(SIGTERM, on_stop);
    install(SIGINT, SIG_IGN); /* the supervisor decides; Ctrl-C reaches it too */
    install(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* the supervisor blocks them for sigsuspend */
    err_clear(&err);
    if (app_init(&app, svc, slot, &err) != BT_OK)
        bt_die("worker %d init: %s%s", slot, err.detail, err.internal);
    if (FCGX_InitRequest(&freq, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
        bt_die("FCGX_InitRequest failed");
    while (!stop_requested) {
        if (FCGX_Accept_r(&freq) < 0) {
            if (stop_requested || errno == EINTR)
                continue;
            log_msg(LOGL_ERROR, NULL, "accept failed: %s", strerror(errno));
            usleep(100000);
            continue;
        }
        serve_one(&app, &freq);
        finish_request(&freq);
        arena_reset(&app.arena);
    }
    FCGX_Free(&freq, 1);
    app_fini(&app);
    return 0;
}

/* ---- supervisor ---- */

struct pool {
    pid_t pids[APP_MAX_WORKERS];
    int64_t started_ms[APP_MAX_WORKERS];
    int crashes[APP_MAX_WORKERS];
    int n;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t spawn(const struct app_service *svc, int fd, int slot)
{
    pid_t supervisor = getpid(), pid = fork();

    if (pid == 0) {
        int rc = worker_main(svc, fd, slot, supervisor);
#if defined(__SANITIZE_ADDRESS__)
        /* _exit skips LeakSanitizer's exit-time check; workers own the
         * request path, so run it here (reports go to the ASan log). */
        __lsan_do_leak_check();
#endif
        _exit(rc);
    }
    return pid;
}

static int live_workers(const struct pool *p)
{
    int i, n = 0;

    for (i = 0; i < p->n; i++)
        if (p->pids[i] > 0)
            n++;
    return n;
}

static void reap(struct pool *p, bool restart, const struct app_service *svc, int fd)
{
    int status, i;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < p->n; i++) {
            if (p->pids[i] != pid)
                continue;
            p->pids[i] = 0;
            if (!restart)
                break;
            if (WIFSIGNALED(status))
                log_msg(LOGL_ERROR, NULL, "worker %d (pid %d) killed by signal %d; restarting", i,
                        (int)pid, WTERMSIG(status));
            else
                log_msg(LOGL_WARN, NULL, "worker %d (pid %d) exited with %d; restarting", i,
                        (int)pid, WEXITSTATUS(status));
            /* Crash loops back off (up to 5 s) instead of spinning. */
            p->crashes[i] = now_ms() - p->started_ms[i] < 2000 ? p->crashes[i] + 1 : 0;
            if (p->crashes[i] > 0)
                usleep((useconds_t)(p->crashes[i] < 50 ? p->crashes[i] * 100000 : 5000000));
            p->started_ms[i] = now_ms();
            p->pids[i] = spawn(svc, fd, i);
            break;
        }
    }
}

static void stop_pool(struct pool *p)
{
    int64_t deadline = now_ms() + APP_STOP_GRACE_S * 1000;
    int i;

    while (live_workers(p) > 0 && now_ms() < deadline) {
        for (i = 0; i < p->n; i++)
            if (p->pids[i] > 0)
                kill(p->pids[i], SIGTERM);
        for (int k = 0; k < 20 && live_workers(p) > 0; k++) {
            usleep(50000);
            reap(p, false, NULL, -1);
        }
    }
    for (i = 0; i < p->n; i++) {
        if (p->pids[i] > 0) {
            log_msg(LOGL_WARN, NULL, "worker pid %d did not stop in %d s; killing", (int)p->pids[i],
                    APP_STOP_GRACE_S);
            kill(p->pids[i], SIGKILL);
        }
    }
    while (waitpid(-1, NULL, 0) > 0)
        ;
}

static int serve(const struct app_service *svc, const struct config *cfg)
{
    struct pool pool;
    sigset_t block, orig;
    int fd, i;

    if (!cfg->socket[0])
        bt_die("BT_SOCKET is not set (a unix socket path or :port)");
    if (FCGX_Init() != 0)
        bt_die("FCGX_Init failed");
    if (cfg->socket[0] != ':')
        unlink(cfg->socket); /* a stale socket from a crash */
    fd = FCGX_OpenSocket(cfg->socket, APP_BACKLOG);
    if (fd < 0)
        bt_die("cannot listen on %s: %s", cfg->socket, strerror(errno));
    if (cfg->socket[0] != ':' && chmod(cfg->socket, (mode_t)strtol(cfg->socket_mode, NULL, 8)) != 0)
        bt_die("chmod %s: %s", cfg->socket, strerror(errno));

    memset(&pool, 0, sizeof(pool));
    pool.n = cfg->workers;
    /* Signals stay blocked except inside sigsuspend, so a stop request can
     * never slip in between the flag test and the wait. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &orig);
    install(SIGTERM, on_stop);
    install(SIGINT, on_stop);
    install(SIGCHLD, on_child);
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < pool.n; i++) {
        pool.started_ms[i] = now_ms();
        pool.pids[i] = spawn(svc, fd, i);
        if (pool.pids[i] < 0)
            bt_die("fork: %s", strerror(errno));
    }
    log_msg(LOGL_INFO, NULL, "listening on %s with %d workers", cfg->socket, pool.n);
    sd_notifyf(0, "READY=1\nSTATUS=%d workers on %s", pool.n, cfg->socket);
    while (!stop_requested) {
        sigsuspend(&orig); /* SIGCHLD or a stop signal wakes us */
        reap(&pool, !stop_requested, svc, fd);
    }
    sigprocmask(SIG_SETMASK, &orig, NULL);
    sd_notify(0, "STOPPING=1");
    log_msg(LOGL_INFO, NULL, "stopping: waiting for in-flight requests");
    stop_pool(&pool);
    close(fd);
    if (cfg->socket[0] != ':')
        unlink(cfg->socket);
    log_msg(LOGL_INFO, NULL, "stopped");
    return 0;
}

int app_main(int argc, char **argv, const struct app_service *svc)
{
    struct config cfg;
    struct bt_err err;
    enum log_level lvl = LOGL_INFO;

    err_clear(&err);
    log_init(svc->name, LOGL_INFO);
    if (config_load(&cfg, NULL, &err) != BT_OK)
        bt_die("configuration: %s", err.detail);
    log_level_parse(cfg.log_level, &lvl);
    log_init(svc->name, lvl);
    if (argc > 1 && argv[1][0] != '-') {
        struct app app;
        int rc;
        if (!svc->cli) {
            fprintf(stderr, "usage: %s   (serves FastCGI on $BT_SOCKET)\n", argv[0]);
            return 2;
        }
        if (app_init(&app, svc, 0, &err) != BT_OK)
            bt_die("%s%s", err.detail, err.internal);
        rc = svc->cli(&app, argc - 1, argv + 1);
        app_fini(&app);
        return rc;
    }
    return serve(svc, &cfg);
}
