/*
 * rigs.h - the mining actions on a site (intents: rig add/remove/firmware,
 * maintenance, energy contract sign/cancel) and the mining reads (a site's
 * rigs, the rig catalog, the mining part of GET /site/:id).
 */
#ifndef BT_SITE_RIGS_H
#define BT_SITE_RIGS_H

#include "app.h"

struct json_object;

int rigs_add(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int rigs_remove(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int rigs_firmware(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);
int rigs_maintenance(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct bt_err *err);
int rigs_contract(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);
int rigs_cancel(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int rigs_list(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int rigs_catalog(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

/* Adds the mining view of the caller's site `site_id` (capacity, slots,
 * rigs summary, contract, uptime, live hashrate, energy cost per tick) to
 * o.  404 when the site is not the caller's. */
int rigs_site_view(struct app *app, struct http_req *req, const char *site_id,
                   struct json_object *o, struct bt_err *err);

#endif
