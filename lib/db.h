/*
 * db.h - PostgreSQL access: named prepared statements only, one persistent
 * connection per process, reconnect, transactions.
 *
 * Statements are declared once, statically, with DB_STMT and prepared
 * lazily on each connection the first time they are used:
 *
 *     DB_STMT(q_user, "SELECT id, email FROM users WHERE id = $1");
 *     PGresult *r = db_exec(db, arena, &q_user, 1, (const char *[]){id}, err);
 *
 * Parameters are always sent separately from the SQL text (never pasted in).
 * Results registered with an arena are PQclear'ed when it resets; pass a NULL
 * arena to own the result (caller PQclears).
 *
 * Failure handling: a lost connection outside a transaction is re-established
 * and the statement retried once; inside a transaction the error is returned
 * (the caller retries the whole transaction).  When the server cannot be
 * reached the error is a 503 with Retry-After.  Unique violations and other
 * SQLSTATEs are available to the caller through db_sqlstate().
 */
#ifndef BT_DB_H
#define BT_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "err.h"

struct db_stmt {
    const char *name;
    const char *sql;
};

#define DB_STMT(var, sql_) static const struct db_stmt var = {#var, sql_}

#define DB_MAX_PREPARED 256

struct db {
    PGconn *conn;
    char dsn[640];
    int timeout_ms;
    bool in_tx;
    int nprepared;
    const struct db_stmt *prepared[DB_MAX_PREPARED];
    /* Per prepared statement, once described (db_int8_array_params): bit k
     * set when parameter k is bigint[]. */
    bool described[DB_MAX_PREPARED];
    uint32_t int8_arrays[DB_MAX_PREPARED];
    char last_sqlstate[6];
};

/* Stores the DSN and connects; a failure is reported but the struct stays
 * usable (the next db_exec tries again). */
int db_open(struct db *db, const char *dsn, int timeout_ms, struct bt_err *err);
void db_close(struct db *db);

/* True when the connection is up (reconnecting if needed) and answers. */
bool db_ping(struct db *db);

/* Runs a prepared statement.  Returns the result (tuples or command OK) or
 * NULL with *err filled: 409 for unique violations (sqlstate 23505), 503 when
 * the server is unreachable, 500 otherwise. */
PGresult *db_exec(struct db *db, struct arena *arena, const struct db_stmt *st, int nparams,
                  const char *const *params, struct bt_err *err);

/* db_exec with parameters in binary where formats[k] is 1 (lengths[k]
 * bytes at params[k]); formats and lengths may be NULL (all text). */
PGresult *db_exec_params(struct db *db, struct arena *arena, const struct db_stmt *st, int nparams,
                         const char *const *params, const int *lengths, const int *formats,
                         struct bt_err *err);

/* Which of st's first 32 parameters are bigint[] (bit k for parameter
 * k + 1), as the server inferred them: st is prepared and described once
 * per connection.  For callers that send such arrays in binary. */
int db_int8_array_params(struct db *db, const struct db_stmt *st, uint32_t *mask,
                         struct bt_err *err);

/* Runs plain SQL without parameters (BEGIN, COMMIT, migrations in tests). */
int db_command(struct db *db, const char *sql, struct bt_err *err);

/* COPY ... FROM STDIN: runs sql and sends len bytes of data (in the format
 * sql names) as its input. */
int db_copy_in(struct db *db, const char *sql, const char *data, size_t len, struct bt_err *err);

int db_begin(struct db *db, struct bt_err *err);
int db_commit(struct db *db, struct bt_err *err);
void db_rollback(struct db *db); /* best effort, never fails the caller */

/* SQLSTATE of the last failed statement ("" when none). */
const char *db_sqlstate(const struct db *db);

/* Helpers to read a result cell; NULL-safe: a SQL NULL reads as NULL/0. */
const char *db_str(const PGresult *r, int row, int col);
long long db_i64(const PGresult *r, int row, int col);
bool db_bool(const PGresult *r, int row, int col);

#endif
