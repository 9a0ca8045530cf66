/*
 * db.c - libpq wrapper (see db.h).
 *
 * The prepared-statement cache is a list of statement pointers per
 * connection; statements are static, so pointer identity is the key.  It is
 * emptied whenever the connection is replaced.  The statement timeout is set
 * once per connection so that a stuck query cannot hold a worker forever.
 */
#include "db.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reset_cache(struct db *db)
{
    db->nprepared = 0;
}

static int connect_now(struct db *db, struct bt_err *err)
{
    char opts[64];
    PGresult *r;

    if (db->conn)
        PQfinish(db->conn);
    reset_cache(db);
    db->in_tx = false;
    db->conn = PQconnectdb(db->dsn);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        err_unavailable(err, 1, "postgres connect: %s", PQerrorMessage(db->conn));
        PQfinish(db->conn);
        db->conn = NULL;
        return BT_ERR;
    }
    snprintf(opts, sizeof(opts), "SET statement_timeout = %d", db->timeout_ms);
    r = PQexec(db->conn, opts);
    PQclear(r);
    return BT_OK;
}

int db_open(struct db *db, const char *dsn, int timeout_ms, struct bt_err *err)
{
    memset(db, 0, sizeof(*db));
    if (strlen(dsn) >= sizeof(db->dsn) - 32)
        return err_internal(err, "BT_PG_DSN too long");
    /* A short connect timeout keeps a down database from stalling workers. */
    snprintf(db->dsn, sizeof(db->dsn), "%s%s", dsn,
             strstr(dsn, "connect_timeout") ? "" : " connect_timeout=2");
    db->timeout_ms = timeout_ms;
    return connect_now(db, err);
}

void db_close(struct db *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
    reset_cache(db);
}

static bool connection_lost(struct db *db)
{
    return !db->conn || PQstatus(db->conn) == CONNECTION_BAD;
}

bool db_ping(struct db *db)
{
    struct bt_err err;
    PGresult *r;
    bool ok;

    err_clear(&err);
    if (connection_lost(db) && connect_now(db, &err) != BT_OK)
        return false;
    r = PQexec(db->conn, "SELECT 1");
    ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok && connection_lost(db)) {
        if (connect_now(db, &err) != BT_OK)
            return false;
        r = PQexec(db->conn, "SELECT 1");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    return ok;
}

static void set_error(struct db *db, PGresult *r, const struct db_stmt *st, struct bt_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);

    snprintf(db->last_sqlstate, sizeof(db->last_sqlstate), "%s", state ? state : "");
    if (connection_lost(db) || (state && strncmp(state, "08", 2) == 0) ||
        (state && strcmp(state, "57P01") == 0))
        err_unavailable(err, 1, "postgres (%s): %s", st ? st->name : "command", msg);
    else if (state && strcmp(state, "23505") == 0)
        err_set(err, 409, "conflict", "the resource already exists");
    else if (state && strcmp(state, "57014") == 0)
        err_unavailable(err, 1, "postgres statement timeout (%s)", st ? st->name : "command");
    else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        err_unavailable(err, 1, "postgres serialization failure (%s): %s",
                        st ? st->name : "command", msg);
    else
        err_internal(err, "postgres (%s) %s: %s", st ? st->name : "command", state ? state : "?",
                     msg);
}

/* The slot of st in the cache, preparing it when missing; -1 with *fail
 * set to the failed result. */
static int prepare(struct db *db, const struct db_stmt *st, PGresult **fail)
{
    PGresult *r;
    int i;

    for (i = 0; i < db->nprepared; i++)
        if (db->prepared[i] == st)
            return i;
    if (db->nprepared >= DB_MAX_PREPARED)
        BT_BUG("more than %d distinct prepared statements", DB_MAX_PREPARED);
    r = PQprepare(db->conn, st->name, st->sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *fail = r;
        return -1;
    }
    PQclear(r);
    db->prepared[i] = st;
    db->described[i] = false;
    db->nprepared++;
    return i;
}

static PGresult *exec_once(struct db *db, const struct db_stmt *st, int nparams,
                           const char *const *params, const int *lengths, const int *formats)
{
    PGresult *fail = NULL;

    if (prepare(db, st, &fail) < 0)
        return fail;
    return PQexecPrepared(db->conn, st->name, nparams, params, lengths, formats, 0);
}

/* A connection to run st on: re-made when it was lost outside a
 * transaction; inside one the loss is st's error. */
static int ensure_connected(struct db *db, const struct db_stmt *st, struct bt_err *err)
{
    if (!connection_lost(db))
        return BT_OK;
    if (db->in_tx) {
        set_error(db, NULL, st, err);
        return BT_ERR;
    }
    return connect_now(db, err);
}

static bool ok_status(PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);

    return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
}

PGresult *db_exec(struct db *db, struct arena *arena, const struct db_stmt *st, int nparams,
                  const char *const *params, struct bt_err *err)
{
    return db_exec_params(db, arena, st, nparams, params, NULL, NULL, err);
}

PGresult *db_exec_params(struct db *db, struct arena *arena, const struct db_stmt *st, int nparams,
                         const char *const *params, const int *lengths, const int *formats,
                         struct bt_err *err)
{
    PGresult *r;

    db->last_sqlstate[0] = '\0';
    if (ensure_connected(db, st, err) != BT_OK)
        return NULL;
    r = exec_once(db, st, nparams, params, lengths, formats);
    if (!ok_status(r) && connection_lost(db) && !db->in_tx) {
        PQclear(r);
        if (connect_now(db, err) != BT_OK)
            return NULL;
        r = exec_once(db, st, nparams, params, lengths, formats);
    }
    if (!ok_status(r)) {
        set_error(db, r, st, err);
        PQclear(r);
        return NULL;
    }
    if (arena && arena_defer(arena, (void (*)(void *))PQclear, r) != BT_OK) {
        err_internal(err, "out of memory registering a result");
        return NULL;
    }
    return r;
}

#define INT8ARRAYOID 1016 /* bigint[] (catalog/pg_type_d.h, not installed with libpq) */

int db_int8_array_params(struct db *db, const struct db_stmt *st, uint32_t *mask,
                         struct bt_err *err)
{
    PGresult *r = NULL;
    int i;

    *mask = 0;
    if (ensure_connected(db, st, err) != BT_OK)
        return BT_ERR;
    if ((i = prepare(db, st, &r)) < 0)
        goto fail;
    if (!db->described[i]) {
        uint32_t m = 0;
        r = PQdescribePrepared(db->conn, st->name);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            goto fail;
        for (int k = 0; k < PQnparams(r) && k < 32; k++)
            if (PQparamtype(r, k) == INT8ARRAYOID)
                m |= 1u << k;
        PQclear(r);
        db->int8_arrays[i] = m;
        db->described[i] = true;
    }
    *mask = db->int8_arrays[i];
    return BT_OK;
fail:
    set_error(db, r, st, err);
    PQclear(r);
    return BT_ERR;
}

int db_command(struct db *db, const char *sql, struct bt_err *err)
{
    PGresult *r;

    if (ensure_connected(db, NULL, err) != BT_OK)
        return BT_ERR;
    r = PQexec(db->conn, sql);
    if (!ok_status(r)) {
        set_error(db, r, NULL, err);
        PQclear(r);
        return BT_ERR;
    }
    PQclear(r);
    return BT_OK;
}

int db_copy_in(struct db *db, const char *sql, const char *data, size_t len, struct bt_err *err)
{
    const size_t chunk = 1u << 20;
    PGresult *r;
    int rc = BT_OK;

    if (ensure_connected(db, NULL, err) != BT_OK)
        return BT_ERR;
    r = PQexec(db->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        set_error(db, r, NULL, err);
        PQclear(r);
        return BT_ERR;
    }
    PQclear(r);
    for (size_t off = 0; off < len && rc == BT_OK; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (PQputCopyData(db->conn, data + off, (int)n) != 1)
            rc = BT_ERR;
    }
    if (PQputCopyEnd(db->conn, rc == BT_OK ? NULL : "tickd could not send the rows") != 1)
        rc = BT_ERR;
    if (rc != BT_OK)
        set_error(db, NULL, NULL, err);
    while ((r = PQgetResult(db->conn))) {
        bool stuck = PQresultStatus(r) == PGRES_COPY_IN; /* the end was not sent */
        if (!ok_status(r) && rc == BT_OK) {
            set_error(db, stuck ? NULL : r, NULL, err);
            rc = BT_ERR;
        }
        PQclear(r);
        if (stuck)
            break;
    }
    return rc;
}

int db_begin(struct db *db, struct bt_err *err)
{
    if (db_command(db, "BEGIN", err) != BT_OK)
        return BT_ERR;
    db->in_tx = true;
    return BT_OK;
}

int db_commit(struct db *db, struct bt_err *err)
{
    PGresult *r;
    int rc = BT_OK;

    db->in_tx = false;
    if (connection_lost(db)) {
        set_error(db, NULL, NULL, err);
        return BT_ERR;
    }
    r = PQexec(db->conn, "COMMIT");
    if (!ok_status(r)) {
        set_error(db, r, NULL, err);
        rc = BT_ERR;
    } else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        /* COMMIT of an aborted transaction "succeeds" as ROLLBACK. */
        err_internal(err, "transaction was rolled back at commit");
        rc = BT_ERR;
    }
    PQclear(r);
    return rc;
}

void db_rollback(struct db *db)
{
    PGresult *r;

    if (db->conn && PQstatus(db->conn) == CONNECTION_OK) {
        r = PQexec(db->conn, "ROLLBACK");
        PQclear(r);
    }
    db->in_tx = false;
}

const char *db_sqlstate(const struct db *db)
{
    return db->last_sqlstate;
}

const char *db_str(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return PQgetvalue(r, row, col);
}

long long db_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool db_bool(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}
