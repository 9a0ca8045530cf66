/*
 * metrics.c - mmap-backed metric series and the exporter (see metrics.h).
 *
 * File layout: a header, then an array of fixed-size series records.  The
 * writer fills a record completely, then publishes it by storing the new
 * count with release semantics; readers load the count with acquire
 * semantics and never see a half-written record.  Values are 64-bit atomics
 * (gauges store int64 bit patterns; histogram sums are microseconds and are
 * printed in seconds).
 */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC      0x42544d31u /* "BTM1" */
#define VERSION    1
#define FAMILY_LEN 64
#define KEY_LEN    176

enum series_type { T_COUNTER = 1, T_GAUGE, T_HIST_BUCKET, T_HIST_SUM, T_HIST_COUNT };

struct series {
    char family[FAMILY_LEN];
    char key[KEY_LEN]; /* full series name with labels: fam_bucket{...,le="0.1"} */
    uint32_t type;
    uint32_t pad;
    _Atomic uint64_t value;
};

struct mfile {
    uint32_t magic;
    uint32_t version;
    _Atomic uint32_t nseries;
    uint32_t cap;
    char name[48];
    struct series series[];
};

struct metrics {
    struct mfile *f;
    size_t size;
    int dropped; /* the bt_metrics_dropped_series counter of this file */
};

static const uint64_t bucket_us[METRICS_NBUCKETS - 1] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
};
static const char *const bucket_le[METRICS_NBUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "+Inf",
};

static int add_series(struct metrics *m, const char *family, const char *key, uint32_t type);

static size_t file_size(void)
{
    return sizeof(struct mfile) + METRICS_MAX_SERIES * sizeof(struct series);
}

struct metrics *metrics_open(const char *dir, const char *name, struct bt_err *err)
{
    char path[512];
    struct metrics *m;
    struct stat st;
    void *p;
    int fd;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        err_internal(err, "metrics: mkdir %s: %s", dir, strerror(errno));
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s.metrics", dir, name);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_internal(err, "metrics: open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || ((size_t)st.st_size != file_size() && ftruncate(fd, 0) != 0) ||
        ftruncate(fd, (off_t)file_size()) != 0) {
        err_internal(err, "metrics: size %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    p = mmap(NULL, file_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        err_internal(err, "metrics: mmap %s: %s", path, strerror(errno));
        return NULL;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        munmap(p, file_size());
        err_internal(err, "metrics: out of memory");
        return NULL;
    }
    m->f = p;
    m->size = file_size();
    if (m->f->magic != MAGIC || m->f->version != VERSION) {
        memset(m->f, 0, sizeof(struct mfile));
        m->f->cap = METRICS_MAX_SERIES;
        snprintf(m->f->name, sizeof(m->f->name), "%s", name);
        m->f->version = VERSION;
        atomic_store(&m->f->nseries, 0);
        m->f->magic = MAGIC;
    }
    m->dropped = METRICS_NONE;
    m->dropped = add_series(m, "bt_metrics_dropped_series", "bt_metrics_dropped_series", T_COUNTER);
    return m;
}

void metrics_close(struct metrics *m)
{
    if (!m)
        return;
    munmap(m->f, m->size);
    free(m);
}

static int find(struct metrics *m, const char *key)
{
    uint32_t n = atomic_load_explicit(&m->f->nseries, memory_order_acquire), i;

    for (i = 0; i < n; i++)
        if (strcmp(m->f->series[i].key, key) == 0)
            return (int)i;
    return METRICS_NONE;
}

static int add_series(struct metrics *m, const char *family, const char *key, uint32_t type)
{
    uint32_t n;
    struct series *s;
    int id;

    if (!m)
        return METRICS_NONE;
    id = find(m, key);
    if (id != METRICS_NONE)
        return id;
    n = atomic_load_explicit(&m->f->nseries, memory_order_relaxed);
    if (n >= m->f->cap || strlen(key) >= KEY_LEN || strlen(family) >= FAMILY_LEN) {
        metrics_add(m, m->dropped, 1); /* refused registrations, visible in /metrics */
        return METRICS_NONE;
    }
    s = &m->f->series[n];
    memset(s, 0, sizeof(*s));
    snprintf(s->family, sizeof(s->family), "%s", family);
    snprintf(s->key, sizeof(s->key), "%s", key);
    s->type = type;
    atomic_store_explicit(&s->value, 0, memory_order_relaxed);
    atomic_store_explicit(&m->f->nseries, n + 1, memory_order_release);
    return (int)n;
}

static void make_key(char *out, size_t n, const char *name, const char *suffix, const char *labels,
                     const char *extra)
{
    bool any = (labels && *labels) || (extra && *extra);

    snprintf(out, n, "%s%s%s%s%s%s%s", name, suffix, any ? "{" : "", labels ? labels : "",
             (labels && *labels && extra && *extra) ? "," : "", extra ? extra : "", any ? "}" : "");
}

int metrics_counter(struct metrics *m, const char *name, const char *labels)
{
    char key[KEY_LEN + 32];

    make_key(key, sizeof(key), name, "", labels, NULL);
    return add_series(m, name, key, T_COUNTER);
}

int metrics_gauge(struct metrics *m, const char *name, const char *labels)
{
    char key[KEY_LEN + 32], proc[72];

    /* Gauges are per process: label them so the exporter never sums them. */
    if (!m)
        return METRICS_NONE;
    snprintf(proc, sizeof(proc), "proc=\"%s\"", m->f->name);
    make_key(key, sizeof(key), name, "", labels, proc);
    return add_series(m, name, key, T_GAUGE);
}

int metrics_histogram(struct metrics *m, const char *name, const char *labels,
                      struct metrics_hist *h)
{
    char key[KEY_LEN + 32], le[32];
    int i, id;

    h->first = METRICS_NONE;
    for (i = 0; i < METRICS_NBUCKETS; i++) {
        snprintf(le, sizeof(le), "le=\"%s\"", bucket_le[i]);
        make_key(key, sizeof(key), name, "_bucket", labels, le);
        id = add_series(m, name, key, T_HIST_BUCKET);
        if (id == METRICS_NONE)
            return METRICS_NONE;
        if (i == 0)
            h->first = id;
        else if (id != h->first + i)
            BT_BUG("histogram %s buckets are not contiguous", name);
    }
    make_key(key, sizeof(key), name, "_sum", labels, NULL);
    if (add_series(m, name, key, T_HIST_SUM) != h->first + METRICS_NBUCKETS)
        BT_BUG("histogram %s sum misplaced", name);
    make_key(key, sizeof(key), name, "_count", labels, NULL);
    if (add_series(m, name, key, T_HIST_COUNT) != h->first + METRICS_NBUCKETS + 1)
        BT_BUG("histogram %s count misplaced", name);
    return h->first;
}

void metrics_add(struct metrics *m, int id, uint64_t n)
{
    if (!m || id < 0)
        return;
    atomic_fetch_add_explicit(&m->f->series[id].value, n, memory_order_relaxed);
}

void metrics_set(struct metrics *m, int id, int64_t v)
{
    if (!m || id < 0)
        return;
    atomic_store_explicit(&m->f->series[id].value, (uint64_t)v, memory_order_relaxed);
}

void metrics_observe(struct metrics *m, const struct metrics_hist *h, uint64_t usec)
{
    int i;

    if (!m || h->first < 0)
        return;
    /* Cumulative buckets: every bucket whose bound is >= the value. */
    for (i = 0; i < METRICS_NBUCKETS - 1; i++)
        if (usec <= bucket_us[i])
            metrics_add(m, h->first + i, 1);
    metrics_add(m, h->first + METRICS_NBUCKETS - 1, 1);
    metrics_add(m, h->first + METRICS_NBUCKETS, usec);
    metrics_add(m, h->first + METRICS_NBUCKETS + 1, 1);
}

/* ---- exporter ---- */

struct agg {
    const char *family;
    const char *key;
    uint32_t type;
    uint64_t value;
    size_t order;
};

struct agg_set {
    struct agg *v;
    size_t n, cap;
};

static int agg_add(struct agg_set *s, const struct series *src)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, src->key) == 0) {
            s->v[i].value += atomic_load_explicit(&src->value, memory_order_relaxed);
            return BT_OK;
        }
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        struct agg *p = realloc(s->v, ncap * sizeof(*p));
        if (!p)
            return BT_ERR;
        s->v = p;
        s->cap = ncap;
    }
    s->v[s->n].family = src->family;
    s->v[s->n].key = src->key;
    s->v[s->n].type = src->type;
    s->v[s->n].value = atomic_load_explicit(&src->value, memory_order_relaxed);
    s->v[s->n].order = s->n;
    s->n++;
    return BT_OK;
}

static int agg_cmp(const void *a, const void *b)
{
    const struct agg *x = a, *y = b;
    int c = strcmp(x->family, y->family);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const char *type_name(uint32_t t)
{
    switch (t) {
    case T_COUNTER:
        return "counter";
    case T_GAUGE:
        return "gauge";
    default:
        return "histogram";
    }
}

int metrics_render(const char *dir, struct buf *out)
{
    struct agg_set set = {0};
    void *maps[512];
    size_t nmaps = 0, i;
    struct dirent *de;
    DIR *d = opendir(dir);
    const char *last = "";
    int rc = BT_OK;

    if (!d)
        return buf_puts(out, "# no metrics yet\n");
    while ((de = readdir(d)) && nmaps < BT_ARRAY_LEN(maps)) {
        char path[512];
        size_t len = strlen(de->d_name);
        struct mfile *f;
        struct stat st;
        uint32_t n, k;
        int fd;

        if (len < 9 || strcmp(de->d_name + len - 8, ".metrics") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        /* A file a starting process has created but not sized yet: mapping
         * past its end would raise SIGBUS on first access. */
        if (fstat(fd, &st) != 0 || (size_t)st.st_size < file_size()) {
            close(fd);
            continue;
        }
        f = mmap(NULL, file_size(), PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        if (f == MAP_FAILED)
            continue;
        maps[nmaps++] = f;
        if (f->magic != MAGIC || f->version != VERSION)
            continue;
        n = atomic_load_explicit(&((struct mfile *)f)->nseries, memory_order_acquire);
        if (n > METRICS_MAX_SERIES)
            n = METRICS_MAX_SERIES;
        for (k = 0; k < n && rc == BT_OK; k++)
            rc = agg_add(&set, &f->series[k]);
    }
    closedir(d);
    if (set.n > 0) /* qsort must not get NULL, even for zero elements */
        qsort(set.v, set.n, sizeof(*set.v), agg_cmp);
    for (i = 0; i < set.n && rc == BT_OK; i++) {
        const struct agg *a = &set.v[i];
        if (strcmp(a->family, last) != 0) {
            rc |= buf_printf(out, "# TYPE %s %s\n", a->family, type_name(a->type));
            last = a->family;
        }
        if (a->type == T_HIST_SUM)
            rc |= buf_printf(out, "%s %" PRIu64 ".%06" PRIu64 "\n", a->key, a->value / 1000000,
                             a->value % 1000000);
        else if (a->type == T_GAUGE)
            rc |= buf_printf(out, "%s %" PRId64 "\n", a->key, (int64_t)a->value);
        else
            rc |= buf_printf(out, "%s %" PRIu64 "\n", a->key, a->value);
    }
    free(set.v);
    for (i = 0; i < nmaps; i++)
        munmap(maps[i], file_size());
    return rc ? BT_ERR : BT_OK;
}
