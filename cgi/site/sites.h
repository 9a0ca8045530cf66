/*
 * sites.h - the site endpoints: POST /site/create (an intent), GET /sites,
 * GET /site/:id.
 */
#ifndef BT_SITE_SITES_H
#define BT_SITE_SITES_H

#include "app.h"

int sites_create(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int sites_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int sites_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

#endif
