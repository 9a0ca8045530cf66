/*
 * profile.c - GET /player/:id and GET /player/me.
 *
 * Any authenticated caller reads the public profile (company name, region,
 * reputation, rank, created); the owner and admins also get the private
 * part (email, role, guest flag, balances from the ledger as of the last
 * committed tick, and a summary of the company's assets).  Balances are
 * null until tickd has opened the company (its company.open intent).
 */
#include "account.h"
#include "app.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* The account and, for the owner or an admin, in the same round trip: the
 * usd and btc balances (NULL before the company is opened; company_balances()
 * adds the mining results not yet settled into the ledger, 0011, and is
 * inlined into the prepared statement, 0014) and the asset
 * counts (sites, rigs, hashrate of the last tick).  Written only by tickd,
 * read here as of its last commit. */
DB_STMT(
    q_private,
    "SELECT " ACCOUNT_COLUMNS ", "
    "b.usd, b.btc, "
    "(SELECT count(*) FROM sites WHERE company_id = c.id), "
    "(SELECT coalesce(sum(g.count), 0) FROM site_rigs g JOIN sites s ON s.id = g.site_id "
    "WHERE s.company_id = c.id), "
    "coalesce((SELECT h.hash_ghs[c.id % mining_bucket_size() + 1] FROM "
    "mining_history_buckets h JOIN worlds w ON w.id = c.world_id WHERE h.world_id = "
    "c.world_id AND h.tick = w.tick AND h.bucket = c.id / mining_bucket_size()), 0) " ACCOUNT_FROM
    " LEFT JOIN LATERAL company_balances(c.id) b ON true WHERE u.id = $1");

int get_player(struct app *app, struct http_req *req, struct http_resp *resp, struct bt_err *err);
int get_player_me(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct bt_err *err);

/* The owner's / an admin's view: account fields, balances, assets (the
 * columns of q_private after the account's). */
static void add_private(const struct account *acc, const PGresult *r, struct json_object *o)
{
    struct json_object *priv = account_user_json(acc, true), *bal = NULL, *assets = NULL;
    const int c = ACCOUNT_NCOLS;

    json_object_object_del(priv, "id");
    json_object_object_del(priv, "created_at");
    if (acc->company_id) {
        if (!PQgetisnull(r, 0, c)) {
            bal = json_object_new_object();
            json_object_object_add(bal, "usd_micro", json_object_new_int64(db_i64(r, 0, c)));
            json_object_object_add(bal, "btc_sat", json_object_new_int64(db_i64(r, 0, c + 1)));
        }
        assets = json_object_new_object();
        json_object_object_add(assets, "sites", json_object_new_int64(db_i64(r, 0, c + 2)));
        json_object_object_add(assets, "rigs", json_object_new_int64(db_i64(r, 0, c + 3)));
        /* Effective hashrate of the last committed tick (0 when it mined nothing). */
        json_object_object_add(assets, "hashrate_ghs", json_object_new_int64(db_i64(r, 0, c + 4)));
    }
    json_object_object_add(priv, "balances", bal);
    json_object_object_add(priv, "assets", assets);
    json_object_object_add(o, "private", priv);
}

static int answer(struct app *app, struct http_req *req, struct http_resp *resp, int64_t id,
                  struct bt_err *err)
{
    /* Who may see the private part is known before the query: one round
     * trip either way. */
    bool priv = req->who.user_id == id || strcmp(req->who.role, "admin") == 0, found = false;
    struct account acc;
    struct json_object *o;
    PGresult *r;

    if (priv)
        r = account_by_id_stmt(&app->db, req->arena, &q_private, id, &acc, &found, err);
    else if (account_by_id(&app->db, req->arena, id, &acc, &found, err) == BT_OK)
        r = NULL;
    else
        return BT_ERR;
    if (priv && !r)
        return BT_ERR;
    if (!found)
        return err_set(err, 404, "not-found", "no such player");
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(acc.id));
    json_object_object_add(o, "created_at", json_object_new_string(acc.created_at));
    json_object_object_add(o, "company", account_company_json(&acc));
    json_object_object_add(o, "reputation", json_object_new_int64(acc.reputation));
    json_object_object_add(o, "rank", acc.rank ? json_object_new_int64(acc.rank) : NULL);
    if (priv)
        add_private(&acc, r, o);
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
