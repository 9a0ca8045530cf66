/*
 * pub.c - Nchan publisher client (see pub.h).  Channel names are ours
 * (e.g. "world.1", "company.42"), never client input, but are still checked
 * against a safe alphabet before being put in a URL.
 */
#include "pub.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * n;
}

int pub_open(struct pub *p, const char *base_url, long timeout_ms, struct bt_err *err)
{
    static bool global_done;

    memset(p, 0, sizeof(*p));
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
    }
    snprintf(p->base, sizeof(p->base), "%s", base_url);
    p->timeout_ms = timeout_ms;
    p->curl = curl_easy_init();
    if (!p->curl)
        return err_internal(err, "curl_easy_init failed");
    return BT_OK;
}

void pub_close(struct pub *p)
{
    if (p->curl)
        curl_easy_cleanup(p->curl);
    p->curl = NULL;
}

static bool safe_channel(const char *c)
{
    size_t n = strlen(c);

    return n > 0 && n < 128 &&
           strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int pub_send(struct pub *p, const char *channel, const char *event, const char *body, size_t len,
             struct bt_err *err)
{
    char url[512], evh[160];
    struct curl_slist *h = NULL;
    long code = 0;
    CURLcode rc;

    if (!safe_channel(channel) || strpbrk(event, "\r\n"))
        return err_internal(err, "publish: bad channel or event name");
    snprintf(url, sizeof(url), "%s/pub/%s", p->base, channel);
    snprintf(evh, sizeof(evh), "X-EventSource-Event: %s", event);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: text/json");
    h = curl_slist_append(h, evh);
    curl_easy_setopt(p->curl, CURLOPT_URL, url);
    curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(p->curl);
    curl_slist_free_all(h);
    if (rc != CURLE_OK)
        return err_unavailable(err, 1, "publish %s: %s", channel, curl_easy_strerror(rc));
    curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200 && code != 201 && code != 202)
        return err_internal(err, "publish %s: nginx answered %ld", channel, code);
    return BT_OK;
}
