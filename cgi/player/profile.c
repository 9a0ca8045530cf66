/*
 * profile.c - GET /player/:id and GET /player/me.
 *
 * Any authenticated caller reads the public profile (company name, region,
 * reputation, rank, created); the owner and admins also get the private
 * part (email, role, guest flag).  Balances and assets belong to the
 * ledger: they are added to the private part by the ledger's read model
 * when it exists (see add_private), never guessed here.
 */
#include "account.h"
#include "app.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

int get_player(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int get_player_me(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);

/* The owner's / an admin's view.  The ledger (balances, assets) plugs in
 * here: one call adding "balances" and "assets" to priv. */
static void add_private(const struct account *acc, struct json_object *o)
{
    struct json_object *priv = account_user_json(acc, true);

    json_object_object_del(priv, "id");
    json_object_object_del(priv, "created_at");
    json_object_object_add(o, "private", priv);
}

static int answer(struct app *app, struct http_req *req, struct http_resp *resp, int64_t id,
                  struct bt_err *err)
{
    struct account acc;
    struct json_object *o;
    bool found = false;

    if (account_by_id(&app->db, req->arena, id, &acc, &found, err) != BT_OK)
        return BT_ERR;
    if (!found)
        return err_set(err, 404, "not-found", "no such player");
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(acc.id));
    json_object_object_add(o, "created_at", json_object_new_string(acc.created_at));
    json_object_object_add(o, "company", account_company_json(&acc));
    json_object_object_add(o, "reputation", json_object_new_int64(acc.reputation));
    json_object_object_add(o, "rank", acc.rank ? json_object_new_int64(acc.rank) : NULL);
    if (req->who.user_id == acc.id || strcmp(req->who.role, "admin") == 0)
        add_private(&acc, o);
    http_resp_json(resp, 200, o);
    return BT_OK;
}

int get_player(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    const char *s = http_param(req, "id");
    char *end;
    long long id;

    id = strtoll(s, &end, 10);
    if (!*s || *end || id <= 0 || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return err_set(err, 404, "not-found", "no such player");
    return answer(app, req, resp, id, err);
}

int get_player_me(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err)
{
    return answer(app, req, resp, req->who.user_id, err);
}
