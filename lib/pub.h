/*
 * pub.h - publishing messages to Nchan channels over HTTP (libcurl).
 *
 * tickd (and only internal code) publishes by POSTing to the loopback-only
 * publisher server of nginx: <base>/pub/<channel>.  The message type goes in
 * the X-EventSource-Event header, so SSE subscribers see it as the `event:`
 * field and browsers can addEventListener(type, ...).  The connection is
 * kept alive between messages.
 */
#ifndef BT_PUB_H
#define BT_PUB_H

#include <stddef.h>
#include "err.h"

struct pub {
    void *curl; /* CURL * */
    char base[256];
    long timeout_ms;
};

int pub_open(struct pub *p, const char *base_url, long timeout_ms, struct bt_err *err);
void pub_close(struct pub *p);

/* Publishes body (JSON) with SSE event name `event` to `channel`. */
int pub_send(struct pub *p, const char *channel, const char *event, const char *body, size_t len,
             struct bt_err *err);

#endif
