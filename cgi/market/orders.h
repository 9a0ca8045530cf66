/*
 * orders.h - the caller's trading: placing and cancelling orders (intents)
 * and reading its own orders, fills and positions.
 */
#ifndef BT_MARKET_ORDERS_H
#define BT_MARKET_ORDERS_H

#include "app.h"

int orders_trade(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int orders_cancel(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);
int orders_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int orders_fills(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int orders_positions(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct bt_err *err);

#endif
