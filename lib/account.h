/*
 * account.h - reading a user with their company, and its JSON views.
 *
 * One query shape serves the auth service (login, refresh, upgrade), the
 * player service (profiles) and the admin service (user details), so the
 * user and company objects look the same in every answer.  Strings in a
 * struct account are borrowed from a result owned by the arena passed to
 * the loader and stay valid until that arena is reset.
 */
#ifndef BT_ACCOUNT_H
#define BT_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "err.h"

struct db;
struct db_stmt;
struct json_object;
struct pg_result;

/* The query shape, for a service that needs the account and more in one
 * round trip: "SELECT " ACCOUNT_COLUMNS ", <its columns> " ACCOUNT_FROM
 * " WHERE u.id = $1".  The account's columns come first (ACCOUNT_NCOLS);
 * u is the user, c the company (NULL columns without one). */
#define ACCOUNT_COLUMNS                                                                            \
    "u.id, u.email, u.role, u.is_guest, u.banned_at IS NOT NULL, "                                 \
    "to_json(u.created_at) #>> '{}', u.password_hash, to_json(u.banned_at) #>> '{}', "             \
    "u.ban_reason, c.id, c.name, c.region, "                                                       \
    "COALESCE(c.world_id, (SELECT w.id FROM worlds w WHERE w.is_default)), c.reputation, "         \
    "CASE WHEN c.id IS NULL THEN 0 ELSE (SELECT count(*) + 1 FROM companies r "                    \
    "  WHERE r.world_id = c.world_id AND r.reputation > c.reputation) END, "                       \
    "to_json(c.created_at) #>> '{}'"
#define ACCOUNT_FROM  "FROM users u LEFT JOIN companies c ON c.user_id = u.id"
#define ACCOUNT_NCOLS 16

struct account {
    int64_t id;
    const char *email; /* NULL for guests */
    const char *role;  /* "player" or "admin" */
    bool is_guest;
    bool banned;
    const char *created_at;    /* ISO 8601 */
    const char *password_hash; /* NULL for guests */
    const char *banned_at;     /* NULL unless banned */
    const char *ban_reason;    /* NULL when none */
    int64_t company_id;        /* 0: no company (admins created by the CLI) */
    const char *company_name;
    const char *region;
    int64_t world_id; /* the company's world, else the default world */
    int64_t reputation;
    int64_t rank; /* 1 = best reputation in the world; 0 without company */
    const char *company_created_at;
};

/* Loads by id / by normalised email.  *found tells whether a row exists. */
int account_by_id(struct db *db, struct arena *a, int64_t id, struct account *out, bool *found,
                  struct bt_err *err);
/* Runs st (an ACCOUNT_COLUMNS query keyed by the user id, see above) and
 * returns its result (owned by a) for the caller's extra columns, or NULL
 * on a database error. */
struct pg_result *account_by_id_stmt(struct db *db, struct arena *a, const struct db_stmt *st,
                                     int64_t id, struct account *out, bool *found,
                                     struct bt_err *err);
int account_by_email(struct db *db, struct arena *a, const char *email, struct account *out,
                     bool *found, struct bt_err *err);

/* The email as stored: surrounding white space removed, ASCII lower-cased.
 * Returns an arena copy, or NULL when out of memory. */
char *account_normalize_email(struct arena *a, const char *email);

/* {id, role, is_guest, created_at[, email]}: email only when private_fields. */
struct json_object *account_user_json(const struct account *acc, bool private_fields);

/* {id, name, region, world_id, reputation, rank, created_at}, or JSON null
 * (NULL) when the account has no company. */
struct json_object *account_company_json(const struct account *acc);

#endif
