/*
 * params.h - admin endpoints for a world's live simulation parameters and
 * shocks (cgi/admin/params.c), mounted by cgi/admin/main.c.
 */
#ifndef BT_ADMIN_PARAMS_H
#define BT_ADMIN_PARAMS_H

#include "app.h"

int params_get(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int params_patch(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int params_shock(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

#endif
