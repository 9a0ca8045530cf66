/*
 * quotes.h - what everyone may read about a world's market: the instrument
 * list of the last tick and an instrument's aggregated depth.
 */
#ifndef BT_MARKET_QUOTES_H
#define BT_MARKET_QUOTES_H

#include "app.h"

int quotes_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int quotes_book(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

#endif
