/*
 * log.c - JSON-lines logger (see log.h).
 *
 * Lines are built with json-c so escaping is always right, then written with
 * one write(2).  Logging must never fail a request: allocation failures drop
 * the line silently.  bt_bug/bt_die live here because they log before leaving.
 */
#include "log.h"
#include "utf8.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_service[32] = "bt";
static enum log_level log_min = LOGL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, enum log_level min)
{
    snprintf(log_service, sizeof(log_service), "%s", service);
    log_min = min;
}

int log_level_parse(const char *s, enum log_level *out)
{
    size_t i;

    for (i = 0; i < BT_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return BT_OK;
        }
    }
    return BT_ERR;
}

bool log_enabled(enum log_level lvl)
{
    return lvl >= log_min;
}

static void write_line(struct json_object *o)
{
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t n = strlen(s);
    char stackbuf[2048];
    char *line = n + 2 <= sizeof(stackbuf) ? stackbuf : malloc(n + 2);
    ssize_t w;

    if (!line)
        return;
    memcpy(line, s, n);
    line[n] = '\n';
    w = write(STDERR_FILENO, line, n + 1);
    BT_UNUSED(w);
    if (line != stackbuf)
        free(line);
}

static void add_timestamp(struct json_object *o)
{
    struct timespec ts;
    struct tm tm;
    char buf[96];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(ts.tv_nsec / 1000000) % 1000);
    json_object_object_add(o, "ts", json_object_new_string(buf));
}

void log_event(enum log_level lvl, const char *request_id, const char *msg,
               struct json_object *fields)
{
    struct json_object *o;
    char clean[1024];

    if (!log_enabled(lvl)) {
        json_object_put(fields);
        return;
    }
    o = json_object_new_object();
    if (!o) {
        json_object_put(fields);
        return;
    }
    add_timestamp(o);
    json_object_object_add(o, "level", json_object_new_string(level_names[lvl]));
    json_object_object_add(o, "service", json_object_new_string(log_service));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    utf8_copy_sanitized(clean, sizeof(clean), msg ? msg : "");
    json_object_object_add(o, "msg", json_object_new_string(clean));
    if (request_id && *request_id) {
        utf8_copy_sanitized(clean, sizeof(clean), request_id);
        json_object_object_add(o, "request_id", json_object_new_string(clean));
    }
    if (fields) {
        json_object_object_foreach(fields, k, v)
        {
            json_object_object_add(o, k, json_object_get(v));
        }
        json_object_put(fields);
    }
    write_line(o);
    json_object_put(o);
}

void log_msg(enum log_level lvl, const char *request_id, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!log_enabled(lvl))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_event(lvl, request_id, msg, NULL);
}

void bt_bug(const char *file, int line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_msg(LOGL_ERROR, NULL, "BUG at %s:%d: %s", file, line, msg);
    abort();
}

void bt_die(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_msg(LOGL_ERROR, NULL, "fatal: %s", msg);
    exit(1);
}
