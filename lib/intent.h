/*
 * intent.h - recording a game action as an intent (handler side).
 *
 * A handler that has authenticated and validated a game action calls
 * intent_record; tickd applies the intent at a later tick and stores the
 * outcome (GET /intents/:id).  An optional Idempotency-Key header (1-128
 * printable ASCII characters) makes retries safe: the same key from the
 * same company returns the first intent with the same 202 body; the same
 * key with another kind or other arguments is a 422 problem.
 */
#ifndef BT_INTENT_H
#define BT_INTENT_H

#include "err.h"

struct app;
struct http_req;
struct http_resp;
struct json_object;

#define INTENT_KEY_MAX 128

/* Records kind(args) for the caller's company (args are borrowed and
 * stored as JSON) and answers 202 {intent_id, status:"queued", tick}. */
int intent_record(struct app *app, struct http_req *req, struct http_resp *resp, const char *kind,
                  struct json_object *args, struct bt_err *err);

#endif
