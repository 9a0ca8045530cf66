/*
 * world.h - the world reads of the event service (cgi/event/world.c).
 */
#ifndef BT_EVENT_WORLD_H
#define BT_EVENT_WORLD_H

#include "app.h"

int world_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int world_regions(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);
int world_events(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int world_history(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);

#endif
