/*
 * intents.h - GET /intents/:id (the outcome of a game action).
 */
#ifndef BT_EVENT_INTENTS_H
#define BT_EVENT_INTENTS_H

#include "app.h"

int intents_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

#endif
