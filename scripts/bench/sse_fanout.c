/*
 * sse_fanout.c - fan-out benchmark client for the live channels.
 *
 * Opens N EventSource-style subscribers (HTTP/1.0, so the stream is not
 * chunked) to one public channel with epoll, waits until every one got its
 * "200" answer, measures the proportional memory (Pss) of the nginx master
 * and its workers, then a forked child publishes M messages to the loopback
 * publisher, each carrying its CLOCK_REALTIME send time.  Every subscriber
 * records publish-to-receipt latency of every message; at the end the
 * distribution (p50/p90/p99/max) and the memory per subscriber are printed
 * as "key value" lines for scripts/bench_sse.sh.
 *
 * Single-threaded on purpose: the client's own reading cost is part of the
 * measured latency, which makes the figures pessimistic, never flattering.
 *
 * usage: sse_fanout PORT PUB_PORT CHANNEL_WORLD N MSGS INTERVAL_MS NGINX_PID
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024
#define MAX_INFLIGHT 512

struct sub {
    int fd;
    int state; /* 0 connecting, 1 request sent, 2 streaming, 3 dead */
    int got;
    size_t len;
    char line[LINE_MAX_LEN];
};

static struct sub *subs;
static int64_t *lat_us; /* N * MSGS, -1 = not received */
static int n_subs, n_msgs;

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Sum of Pss (kB) of pid and its direct children. */
static long nginx_pss_kb(int master)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    long total = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[300], buf[512];
        int pid = atoi(e->d_name), ppid = 0;
        FILE *f;

        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof(buf), f)) {
            char *p = strrchr(buf, ')');
            if (p)
                sscanf(p + 2, "%*c %d", &ppid);
        }
        fclose(f);
        if (pid != master && ppid != master)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
        f = fopen(path, "r");
        if (!f)
            continue;
        while (fgets(buf, sizeof(buf), f)) {
            long kb;
            if (sscanf(buf, "Pss: %ld kB", &kb) == 1)
                total += kb;
        }
        fclose(f);
    }
    closedir(d);
    return total;
}

static int open_sub(int port, int ep, int idx)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)idx};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    if (fd < 0)
        die("socket (raise the fd limit)");
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
        die("connect");
    subs[idx].fd = fd;
    subs[idx].state = 0;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl");
    return fd;
}

/* One complete line of the stream. */
static void on_line(int idx, const char *l, int64_t recv_ns)
{
    struct sub *s = &subs[idx];
    const char *p;

    if (s->state == 1) {
        if (strncmp(l, "HTTP/1.", 7) == 0) {
            if (strstr(l, " 200 ") == NULL) {
                fprintf(stderr, "subscriber %d: %s\n", idx, l);
                s->state = 3;
                return;
            }
            s->state = 2;
        }
        return;
    }
    if (strncmp(l, "data: ", 6) != 0 || !(p = strstr(l, "\"seq\":")))
        return;
    {
        int seq = atoi(p + 6);
        const char *t = strstr(l, "\"t_ns\":");
        if (!t || seq < 0 || seq >= n_msgs)
            return;
        lat_us[(size_t)idx * n_msgs + seq] = (recv_ns - strtoll(t + 7, NULL, 10)) / 1000;
        s->got++;
    }
}

static void on_read(int idx)
{
    struct sub *s = &subs[idx];
    char buf[16384];
    ssize_t n;

    while ((n = read(s->fd, buf, sizeof(buf))) > 0) {
        int64_t t = now_ns(CLOCK_REALTIME);
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                if (s->len && s->line[s->len - 1] == '\r')
                    s->len--;
                s->line[s->len] = '\0';
                on_line(idx, s->line, t);
                s->len = 0;
            } else if (s->len < LINE_MAX_LEN - 1) {
                s->line[s->len++] = buf[i];
            }
        }
    }
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        if (s->state != 3)
            fprintf(stderr, "subscriber %d closed\n", idx);
        s->state = 3;
        close(s->fd);
    }
}

static void publisher(int pub_port, long world, int interval_ms, int go_fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pub_port)};
    char c, body[256], req[1024], resp[4096];
    int fd, i, one = 1;

    if (read(go_fd, &c, 1) != 1)
        _exit(1);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("publisher connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (i = 0; i < n_msgs; i++) {
        struct timespec ts = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000};
        int bl, rl;
        nanosleep(&ts, NULL);
        bl = snprintf(body, sizeof(body),
                      "{\"type\":\"tick:update\",\"world\":%ld,\"seq\":%d,\"t_ns\":%lld}", world,
                      i, (long long)now_ns(CLOCK_REALTIME));
        rl = snprintf(req, sizeof(req),
                      "POST /pub/world.%ld HTTP/1.1\r\nHost: pub\r\nContent-Type: "
                      "application/json\r\nX-EventSource-Event: tick:update\r\nContent-Length: "
                      "%d\r\n\r\n%s",
                      world, bl, body);
        if (write(fd, req, (size_t)rl) != rl)
            die("publisher write");
        if (read(fd, resp, sizeof(resp)) <= 0) /* the small answer arrives in one read */
            die("publisher read");
    }
    close(fd);
    _exit(0);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    struct epoll_event evs[1024];
    int port, pub_port, interval_ms, master, ep, i, opened = 0, streaming = 0, go[2];
    long world, pss0, pss1;
    int64_t deadline, t0;
    pid_t child;
    char req[256];
    int reql;

    if (argc != 8) {
        fprintf(stderr, "usage: %s PORT PUB_PORT WORLD N MSGS INTERVAL_MS NGINX_PID\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    pub_port = atoi(argv[2]);
    world = atol(argv[3]);
    n_subs = atoi(argv[4]);
    n_msgs = atoi(argv[5]);
    interval_ms = atoi(argv[6]);
    master = atoi(argv[7]);
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)n_subs + 64 > rl.rlim_cur) {
        fprintf(stderr, "fd limit %ld is too low for %d subscribers\n", (long)rl.rlim_cur, n_subs);
        return 1;
    }
    subs = calloc((size_t)n_subs, sizeof(*subs));
    lat_us = malloc((size_t)n_subs * (size_t)n_msgs * sizeof(*lat_us));
    if (!subs || !lat_us)
        die("malloc");
    for (i = 0; i < n_subs * n_msgs; i++)
        lat_us[i] = -1;
    if (pipe(go) < 0)
        die("pipe");
    child = fork();
    if (child == 0) {
        close(go[1]);
        publisher(pub_port, world, interval_ms, go[0]);
    }
    close(go[0]);
    pss0 = nginx_pss_kb(master);
    ep = epoll_create1(0);
    reql = snprintf(req, sizeof(req),
                    "GET /live/world/%ld HTTP/1.0\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n",
                    world);
    t0 = now_ns(CLOCK_MONOTONIC);
    deadline = t0 + 120LL * 1000000000;
    /* Connect with at most MAX_INFLIGHT handshakes pending. */
    while (streaming < n_subs && now_ns(CLOCK_MONOTONIC) < deadline) {
        int pending = 0, n;
        for (i = 0; i < opened; i++)
            pending += subs[i].state < 2;
        while (opened < n_subs && pending < MAX_INFLIGHT) {
            open_sub(port, ep, opened++);
            pending++;
        }
        n = epoll_wait(ep, evs, 1024, 100);
        for (i = 0; i < n; i++) {
            int idx = (int)evs[i].data.u32;
            struct sub *s = &subs[idx];
            if (s->state == 0 && (evs[i].events & EPOLLOUT)) {
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
                if (write(s->fd, req, (size_t)reql) != reql)
                    die("request write");
                s->state = 1;
                epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                int before = s->state;
                on_read(idx);
                if (before < 2 && s->state == 2)
                    streaming++;
                if (s->state == 3) {
                    fprintf(stderr, "a subscriber failed; aborting\n");
                    return 1;
                }
            }
        }
    }
    printf("subscribers %d\n", streaming);
    printf("connect_seconds %.2f\n", (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
    if (streaming < n_subs)
        return 1;
    /* Let nginx settle after the last handshake before measuring memory. */
    usleep(500000);
    pss1 = nginx_pss_kb(master);
    printf("nginx_pss_kb_before %ld\nnginx_pss_kb_after %ld\n", pss0, pss1);
    printf("bytes_per_subscriber %.0f\n", (double)(pss1 - pss0) * 1024.0 / n_subs);
    if (write(go[1], "g", 1) != 1)
        die("go");
    {
        long want = (long)n_subs * n_msgs, have = 0;
        deadline = now_ns(CLOCK_MONOTONIC) +
                   ((int64_t)n_msgs * interval_ms + 30000) * 1000000;
        while (have < want && now_ns(CLOCK_MONOTONIC) < deadline) {
            int n = epoll_wait(ep, evs, 1024, 200);
            for (i = 0; i < n; i++)
                on_read((int)evs[i].data.u32);
            have = 0;
            for (i = 0; i < n_subs; i++)
                have += subs[i].got;
        }
        printf("delivered %ld\nexpected %ld\n", have, want);
    }
    waitpid(child, NULL, 0);
    {
        size_t k = 0, total = (size_t)n_subs * n_msgs;
        int64_t *v = malloc(total * sizeof(*v));
        if (!v)
            die("malloc");
        for (size_t j = 0; j < total; j++)
            if (lat_us[j] >= 0)
                v[k++] = lat_us[j];
        qsort(v, k, sizeof(*v), cmp64);
        if (k) {
            printf("latency_ms_p50 %.2f\n", v[k / 2] / 1000.0);
            printf("latency_ms_p90 %.2f\n", v[k * 90 / 100] / 1000.0);
            printf("latency_ms_p99 %.2f\n", v[k * 99 / 100] / 1000.0);
            printf("latency_ms_max %.2f\n", v[k - 1] / 1000.0);
        }
        free(v);
    }
    return 0;
}
