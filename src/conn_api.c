/*
 * conn_api.c: the calls on a borrowed connection (sqlpool_conn_*). Each asks the backend
 * table for the capability it needs (backend.h) and fails with SQLPOOL_ENOTSUP, or returns
 * NULL, when the backend has none; none tests which backend it is. A handle whose borrow has
 * ended is refused with SQLPOOL_EMISUSE.
 */
#include "conn.h"

#include <math.h>
#include <string.h>

int sqlpool_conn_health(sqlpool_conn *conn, sqlpool_health *out) {
    sqlpool_conn *c;
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    memset(out, 0, sizeof *out);
    if (conn == NULL) {
        sqlpool__format(out->error, sizeof out->error, "no connection");
        return sqlpool__fail(SQLPOOL_EINVAL, "conn is NULL");
    }
    if ((c = sqlpool__borrowed(conn)) == NULL) {
        sqlpool__format(out->error, sizeof out->error, "connection already released");
        return sqlpool__misuse(conn, "health check");
    }
    if (c->pool->backend->health(c->handle, out) == SQLPOOL_OK) return SQLPOOL_OK;
    {
        char raw[sizeof out->error]; /* it may name the file: escaped, as messages are */
        memcpy(raw, out->error, sizeof raw);
        sqlpool__escape_controls(raw, out->error, sizeof out->error);
        return sqlpool__fail(SQLPOOL_EBROKEN, "health check failed: %s", raw); /* escapes it */
    }
}

sqlite3 *sqlpool_conn_sqlite(sqlpool_conn *conn) {
    sqlpool_conn *c;
    if (conn == NULL) return NULL;
    if ((c = sqlpool__borrowed(conn)) == NULL) {
        (void)sqlpool__misuse(conn, "sqlpool_conn_sqlite");
        return NULL;
    }
    if (c->pool->backend->sqlite_db == NULL) return NULL; /* not SQLite */
    c->native_used = 1; /* release must then look for the borrower's own statements */
    return (sqlite3 *)c->pool->backend->sqlite_db(c->handle);
}

int sqlpool_conn_prepare(sqlpool_conn *conn, const char *sql, sqlite3_stmt **out) {
    sqlpool_conn *c;
    char err[256] = "";
    void *stmt = NULL;
    int rc;
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (conn == NULL || sql == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "conn or sql is NULL");
    if ((c = sqlpool__borrowed(conn)) == NULL) return sqlpool__misuse(conn, "sqlpool_conn_prepare");
    if (c->pool->backend->prepare == NULL)
        return sqlpool__fail(SQLPOOL_ENOTSUP,
                             "sqlpool_conn_prepare is for SQLite; use sqlpool_conn_pg_exec");
    rc = c->pool->backend->prepare(c->handle, sql, &stmt, err, sizeof err);
    if (rc != SQLPOOL_OK) return sqlpool__fail(rc, "%s", err);
    *out = stmt;
    return SQLPOOL_OK;
}

PGconn *sqlpool_conn_pg(sqlpool_conn *conn) {
    sqlpool_conn *c;
    if (conn == NULL) return NULL;
    if ((c = sqlpool__borrowed(conn)) == NULL) {
        (void)sqlpool__misuse(conn, "sqlpool_conn_pg");
        return NULL;
    }
    if (c->pool->backend->pg_conn == NULL) return NULL; /* not PostgreSQL */
    c->native_used = 1;
    return (PGconn *)c->pool->backend->pg_conn(c->handle);
}

/* Both exec calls: by_default takes config.statement_timeout (sqlpool_conn_pg_exec), else
 * deadline, a time on sqlpool_clock() (INFINITY: none; -INFINITY: passed already). */
static int pg_exec(sqlpool_conn *conn, const char *what, const char *sql, int nparams,
                   const char *const *values, double deadline, int by_default, PGresult **out) {
    sqlpool_conn *c;
    const sqlpool__backend *b;
    char err[256] = "";
    void *result = NULL;
    int rc;
    if (out == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "out is NULL");
    *out = NULL;
    if (conn == NULL || sql == NULL || nparams < 0 || (nparams > 0 && values == NULL))
        return sqlpool__fail(SQLPOOL_EINVAL, "conn, sql or values is NULL");
    if ((c = sqlpool__borrowed(conn)) == NULL) return sqlpool__misuse(conn, what);
    b = c->pool->backend;
    if (b->exec == NULL || b->exec_until == NULL)
        return sqlpool__fail(SQLPOOL_ENOTSUP, "%s needs a PostgreSQL pool", what);
    if (by_default)
        rc = b->exec(c->handle, sql, nparams, values, &result, err, sizeof err);
    else if (isnan(deadline))
        return sqlpool__fail(SQLPOOL_EINVAL, "deadline is NaN");
    else
        rc = b->exec_until(c->handle, sql, nparams, values,
                           isinf(deadline) && deadline > 0 ? INFINITY
                                                           : deadline - sqlpool_clock(c->pool),
                           &result, err, sizeof err);
    *out = result; /* with SQLPOOL_EBROKEN too, when a result said so */
    if (rc != SQLPOOL_OK) return sqlpool__fail(rc, "%s", err);
    return SQLPOOL_OK;
}

int sqlpool_conn_pg_exec(sqlpool_conn *conn, const char *sql, int nparams,
                         const char *const *values, PGresult **out) {
    return pg_exec(conn, "sqlpool_conn_pg_exec", sql, nparams, values, 0, 1, out);
}

int sqlpool_conn_pg_exec_until(sqlpool_conn *conn, const char *sql, int nparams,
                               const char *const *values, double deadline, PGresult **out) {
    return pg_exec(conn, "sqlpool_conn_pg_exec_until", sql, nparams, values, deadline, 0, out);
}

int sqlpool_conn_pg_check(sqlpool_conn *conn, const PGresult *res) {
    sqlpool_conn *c;
    char err[256] = "";
    int rc;
    if (conn == NULL) return sqlpool__fail(SQLPOOL_EINVAL, "conn is NULL");
    if ((c = sqlpool__borrowed(conn)) == NULL)
        return sqlpool__misuse(conn, "sqlpool_conn_pg_check");
    if (c->pool->backend->check_result == NULL)
        return sqlpool__fail(SQLPOOL_ENOTSUP, "sqlpool_conn_pg_check needs a PostgreSQL pool");
    rc = c->pool->backend->check_result(c->handle, res, err, sizeof err);
    if (rc != SQLPOOL_OK) return sqlpool__fail(rc, "%s", err);
    return SQLPOOL_OK;
}
