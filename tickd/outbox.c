/*
 * outbox.c - the publisher thread and its queue of batches (see outbox.h).
 *
 * One mutex guards the queue; the tick thread only appends a finished batch
 * and signals, the publisher thread takes the oldest batch and sends it
 * outside the lock.  Messages are single allocations (header, channel,
 * event and body back to back) owned by their batch.  This file never
 * touches world state: a batch holds finished strings only.
 */
#include "outbox.h"
#include "log.h"
#include "pub.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct outbox_msg {
    const char *channel, *event, *body;
    size_t len;
};

struct outbox_batch {
    struct outbox_msg **msgs;
    size_t n, cap, bytes;
    struct outbox_batch *next;
};

struct outbox {
    struct pub pub;
    struct metrics *metrics;
    int sent, failed, dropped;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t more, idle;
    struct outbox_batch *head, *tail; /* queued, oldest first */
    size_t queued_bytes;
    bool busy; /* the thread is sending a batch it took */
    bool stopping;
    atomic_bool abandon; /* drain time is over: stop sending the batch in hand */
};

struct outbox_batch *outbox_batch_new(void)
{
    return calloc(1, sizeof(struct outbox_batch));
}

int outbox_add(struct outbox_batch *b, const char *channel, const char *event, const char *body,
               size_t len)
{
    size_t lc = strlen(channel) + 1, le = strlen(event) + 1;
    struct outbox_msg *m;
    char *p;

    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct outbox_msg **g = realloc(b->msgs, cap * sizeof(*g));
        if (!g)
            return BT_ERR;
        b->msgs = g;
        b->cap = cap;
    }
    m = malloc(sizeof(*m) + lc + le + len + 1);
    if (!m)
        return BT_ERR;
    p = (char *)(m + 1);
    memcpy(p, channel, lc);
    memcpy(p + lc, event, le);
    memcpy(p + lc + le, body, len);
    p[lc + le + len] = '\0';
    *m = (struct outbox_msg){p, p + lc, p + lc + le, len};
    b->msgs[b->n++] = m;
    b->bytes += len;
    return BT_OK;
}

void outbox_batch_free(struct outbox_batch *b)
{
    size_t i;

    if (!b)
        return;
    for (i = 0; i < b->n; i++)
        free(b->msgs[i]);
    free(b->msgs);
    free(b);
}

static void send_batch(struct outbox *ob, const struct outbox_batch *b)
{
    size_t i, failed = 0;
    struct bt_err err;

    for (i = 0; i < b->n && !atomic_load(&ob->abandon); i++) {
        const struct outbox_msg *m = b->msgs[i];
        err_clear(&err);
        if (pub_send(&ob->pub, m->channel, m->event, m->body, m->len, &err) != BT_OK) {
            /* One line per batch: a down nginx must not flood the log. */
            if (failed++ == 0)
                log_msg(LOGL_WARN, NULL, "publish to %s failed: %s", m->channel, err.internal);
        }
    }
    metrics_add(ob->metrics, ob->sent, i - failed);
    metrics_add(ob->metrics, ob->dropped, b->n - i);
    metrics_add(ob->metrics, ob->failed, failed);
}

static void *run(void *arg)
{
    struct outbox *ob = arg;
    struct outbox_batch *b;

    pthread_mutex_lock(&ob->lock);
    for (;;) {
        while (!ob->head && !ob->stopping)
            pthread_cond_wait(&ob->more, &ob->lock);
        if (!ob->head)
            break; /* stopping and drained */
        b = ob->head;
        ob->head = b->next;
        if (!ob->head)
            ob->tail = NULL;
        ob->queued_bytes -= b->bytes;
        ob->busy = true;
        pthread_mutex_unlock(&ob->lock);
        send_batch(ob, b);
        outbox_batch_free(b);
        pthread_mutex_lock(&ob->lock);
        ob->busy = false;
        pthread_cond_broadcast(&ob->idle);
    }
    pthread_mutex_unlock(&ob->lock);
    return NULL;
}

struct outbox *outbox_start(const char *base_url, long timeout_ms, struct metrics *m,
                            struct bt_err *err)
{
    struct outbox *ob = calloc(1, sizeof(*ob));

    if (!ob) {
        err_internal(err, "out of memory");
        return NULL;
    }
    if (pub_open(&ob->pub, base_url, timeout_ms, err) != BT_OK) {
        free(ob);
        return NULL;
    }
    ob->metrics = m;
    ob->sent = metrics_counter(m, "bt_publish_messages_total", "");
    ob->failed = metrics_counter(m, "bt_publish_failures_total", "");
    ob->dropped = metrics_counter(m, "bt_publish_dropped_total", "");
    pthread_mutex_init(&ob->lock, NULL);
    pthread_cond_init(&ob->more, NULL);
    pthread_cond_init(&ob->idle, NULL);
    if (pthread_create(&ob->thread, NULL, run, ob) != 0) {
        pub_close(&ob->pub);
        free(ob);
        err_internal(err, "cannot start the publisher thread");
        return NULL;
    }
    return ob;
}

void outbox_push(struct outbox *ob, struct outbox_batch *b)
{
    if (!ob || !b || b->n == 0) {
        outbox_batch_free(b);
        return;
    }
    pthread_mutex_lock(&ob->lock);
    /* Over budget: drop the oldest queued batches (not the one being sent). */
    while (ob->head && ob->queued_bytes + b->bytes > OUTBOX_MAX_BYTES) {
        struct outbox_batch *old = ob->head;
        ob->head = old->next;
        if (!ob->head)
            ob->tail = NULL;
        ob->queued_bytes -= old->bytes;
        metrics_add(ob->metrics, ob->dropped, old->n);
        log_msg(LOGL_WARN, NULL, "publisher behind: dropped %zu queued messages", old->n);
        outbox_batch_free(old);
    }
    if (ob->tail)
        ob->tail->next = b;
    else
        ob->head = b;
    ob->tail = b;
    ob->queued_bytes += b->bytes;
    pthread_cond_signal(&ob->more);
    pthread_mutex_unlock(&ob->lock);
}

void outbox_stop(struct outbox *ob, int drain_ms)
{
    struct timespec until;

    if (!ob)
        return;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += drain_ms / 1000;
    until.tv_nsec += (long)(drain_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&ob->lock);
    while ((ob->head || ob->busy) && pthread_cond_timedwait(&ob->idle, &ob->lock, &until) == 0)
        ;
    /* Whatever is still queued after the drain time is dropped. */
    while (ob->head) {
        struct outbox_batch *old = ob->head;
        ob->head = old->next;
        metrics_add(ob->metrics, ob->dropped, old->n);
        outbox_batch_free(old);
    }
    ob->tail = NULL;
    ob->stopping = true;
    atomic_store(&ob->abandon, true);
    pthread_cond_signal(&ob->more);
    pthread_mutex_unlock(&ob->lock);
    pthread_join(ob->thread, NULL);
    pthread_mutex_destroy(&ob->lock);
    pthread_cond_destroy(&ob->more);
    pthread_cond_destroy(&ob->idle);
    pub_close(&ob->pub);
    free(ob);
}
