/*
 * account.c - the user + company read model (see account.h).
 *
 * Rank is computed on read: 1 + the companies of the same world with a
 * strictly higher reputation (index companies_rank).  That is cheap for
 * the company counts of one world and always consistent with reputation;
 * if it ever is not cheap, a per-tick ranking table can replace the
 * subquery without changing the struct or the JSON.
 */
#include "account.h"
#include "db.h"

#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define ACCOUNT_SELECT "SELECT " ACCOUNT_COLUMNS " " ACCOUNT_FROM " "

DB_STMT(q_account_by_id, ACCOUNT_SELECT "WHERE u.id = $1");
DB_STMT(q_account_by_email, ACCOUNT_SELECT "WHERE u.email = $1");

static void from_row(const PGresult *r, struct account *acc)
{
    memset(acc, 0, sizeof(*acc));
    acc->id = db_i64(r, 0, 0);
    acc->email = db_str(r, 0, 1);
    acc->role = db_str(r, 0, 2);
    acc->is_guest = db_bool(r, 0, 3);
    acc->banned = db_bool(r, 0, 4);
    acc->created_at = db_str(r, 0, 5);
    acc->password_hash = db_str(r, 0, 6);
    acc->banned_at = db_str(r, 0, 7);
    acc->ban_reason = db_str(r, 0, 8);
    acc->company_id = db_i64(r, 0, 9);
    acc->company_name = db_str(r, 0, 10);
    acc->region = db_str(r, 0, 11);
    acc->world_id = db_i64(r, 0, 12);
    acc->reputation = db_i64(r, 0, 13);
    acc->rank = db_i64(r, 0, 14);
    acc->company_created_at = db_str(r, 0, 15);
}

static PGresult *load(struct db *db, struct arena *a, const struct db_stmt *st, const char *key,
                      struct account *out, bool *found, struct bt_err *err)
{
    PGresult *r = db_exec(db, a, st, 1, &key, err);

    if (!r)
        return NULL;
    *found = PQntuples(r) == 1;
    if (*found)
        from_row(r, out);
    return r;
}

PGresult *account_by_id_stmt(struct db *db, struct arena *a, const struct db_stmt *st, int64_t id,
                             struct account *out, bool *found, struct bt_err *err)
{
    char key[24];

    snprintf(key, sizeof(key), "%" PRId64, id);
    return load(db, a, st, key, out, found, err);
}

int account_by_id(struct db *db, struct arena *a, int64_t id, struct account *out, bool *found,
                  struct bt_err *err)
{
    return account_by_id_stmt(db, a, &q_account_by_id, id, out, found, err) ? BT_OK : BT_ERR;
}

int account_by_email(struct db *db, struct arena *a, const char *email, struct account *out,
                     bool *found, struct bt_err *err)
{
    return load(db, a, &q_account_by_email, email, out, found, err) ? BT_OK : BT_ERR;
}

char *account_normalize_email(struct arena *a, const char *email)
{
    const char *end;
    char *out, *p;

    while (*email && isspace((unsigned char)*email))
        email++;
    end = email + strlen(email);
    while (end > email && isspace((unsigned char)end[-1]))
        end--;
    out = arena_strndup(a, email, (size_t)(end - email));
    if (!out)
        return NULL;
    for (p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

static struct json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

struct json_object *account_user_json(const struct account *acc, bool private_fields)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_int64(acc->id));
    json_object_object_add(o, "created_at", str_or_null(acc->created_at));
    if (private_fields) {
        json_object_object_add(o, "email", str_or_null(acc->email));
        json_object_object_add(o, "role", str_or_null(acc->role));
        json_object_object_add(o, "is_guest", json_object_new_boolean(acc->is_guest));
    }
    return o;
}

struct json_object *account_company_json(const struct account *acc)
{
    struct json_object *o;

    if (!acc->company_id)
        return NULL;
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(acc->company_id));
    json_object_object_add(o, "name", str_or_null(acc->company_name));
    json_object_object_add(o, "region", str_or_null(acc->region));
    json_object_object_add(o, "world_id", json_object_new_int64(acc->world_id));
    json_object_object_add(o, "reputation", json_object_new_int64(acc->reputation));
    json_object_object_add(o, "rank", json_object_new_int64(acc->rank));
    json_object_object_add(o, "created_at", str_or_null(acc->company_created_at));
    return o;
}
