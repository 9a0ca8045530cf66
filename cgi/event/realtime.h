/*
 * realtime.h - live-update endpoints of the event service (realtime.c):
 * POST /realtime/ticket and the internal subscriber authorizer.
 */
#ifndef BT_EVENT_REALTIME_H
#define BT_EVENT_REALTIME_H

#include "app.h"

/* POST /realtime/ticket (bearer): a single-use subscribe ticket for the
 * caller's company channel (or any company's, for admins). */
int realtime_ticket(struct app *app, struct http_req *req, struct http_resp *resp,
                    struct bt_err *err);

/* GET /realtime/authorize, reached only through nginx's auth_request:
 * consumes the ticket and answers 204 or 403. */
int realtime_authorize(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct bt_err *err);

#endif
