/*
 * log.h - structured JSON-lines logging to stderr (journald-friendly).
 *
 * One line per event: {"ts","level","service","pid","msg","request_id",...}.
 * Each line is written with a single write(2) so concurrent workers sharing
 * a log file never interleave within a line.  The service name and minimum
 * level are set once at start-up by log_init (process-wide, read-only after).
 */
#ifndef BT_LOG_H
#define BT_LOG_H

#include <stdbool.h>
#include "common.h"

struct json_object;

enum log_level { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

void log_init(const char *service, enum log_level min);
int log_level_parse(const char *s, enum log_level *out);
bool log_enabled(enum log_level lvl);

/* A free-text message; request_id may be NULL. */
void log_msg(enum log_level lvl, const char *request_id, const char *fmt, ...) BT_PRINTF(3, 4);

/* A message with structured fields merged into the line.  Takes ownership of
 * fields (a json object, may be NULL). */
void log_event(enum log_level lvl, const char *request_id, const char *msg,
               struct json_object *fields);

#endif
