/* postgres.c: libsqlpool on PostgreSQL. Pool the server named by argv[1] (or
 * $SQLPOOL_TEST_PG), a "postgresql://" URI or a libpq conninfo string, borrow a connection
 * and run a parameterised query with sqlpool_conn_pg_exec(), which prepares it once per
 * connection and keeps it in the connection's statement cache. */
#include <sqlpool.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

static int query(sqlpool_conn *conn) {
    const char *sql = "SELECT $1::int * $2::int, current_setting('server_version')";
    const char *const values[] = {"6", "7"};
    PGresult *res;

    if (sqlpool_conn_pg_exec(conn, sql, 2, values, &res) != SQLPOOL_OK) {
        fprintf(stderr, "postgres: %s\n", sqlpool_errmsg());
        PQclear(res); /* SQLPOOL_EBROKEN may come with the result that said so */
        return 1;
    }
    /* The result is ours: check its status, PQclear() it. */
    int status = 1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        printf("postgres: %s * %s = %s (PostgreSQL %s)\n", values[0], values[1],
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        status = 0;
    } else {
        fprintf(stderr, "postgres: %s", PQresultErrorMessage(res));
    }
    PQclear(res);
    return status;
}

int main(int argc, char **argv) {
    const char *db = argc > 1 ? argv[1] : getenv("SQLPOOL_TEST_PG");
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *conn;

    if (db == NULL || *db == '\0') {
        fprintf(stderr, "usage: postgres postgresql://USER:PASSWORD@HOST:PORT/DB "
                        "(or set SQLPOOL_TEST_PG)\n");
        return 2;
    }
    if (!sqlpool_has_postgresql()) {
        fprintf(stderr, "postgres: this libsqlpool was built without libpq\n");
        return 1;
    }
    sqlpool_config_init(&cfg);
    cfg.db = db;
    cfg.max_open = 2;
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) {
        fprintf(stderr, "postgres: %s\n", sqlpool_errmsg());
        return 1;
    }
    int status = 1;
    if (sqlpool_acquire(pool, &conn) == SQLPOOL_OK) {
        status = query(conn);
        sqlpool_release(conn);
    } else {
        fprintf(stderr, "postgres: %s\n", sqlpool_errmsg()); /* passwords are masked */
    }
    sqlpool_close(pool);
    return status;
}
