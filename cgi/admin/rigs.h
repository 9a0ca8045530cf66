/*
 * rigs.h - admin endpoint tuning the rig catalog live (cgi/admin/rigs.c),
 * mounted by cgi/admin/main.c.
 */
#ifndef BT_ADMIN_RIGS_H
#define BT_ADMIN_RIGS_H

#include "app.h"

int rigs_patch(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);

#endif
