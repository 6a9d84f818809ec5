/* minimal.c: the smallest use of libsqlpool. Open a pool on an in-memory SQLite database,
 * borrow a connection, run one statement from the pool's statement cache, give the
 * connection back, close the pool. */
#include <sqlpool.h>
#include <sqlite3.h>
#include <stdio.h>

int main(void) {
    sqlpool_config cfg;
    sqlpool *pool;
    sqlpool_conn *conn;
    sqlite3_stmt *stmt;
    int status = 1;

    sqlpool_config_init(&cfg); /* db ":memory:" */
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) {
        fprintf(stderr, "minimal: %s\n", sqlpool_errmsg());
        return 1;
    }
    if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) {
        fprintf(stderr, "minimal: %s\n", sqlpool_errmsg());
    } else if (sqlpool_conn_prepare(conn, "SELECT sqlite_version()", &stmt) != SQLPOOL_OK) {
        fprintf(stderr, "minimal: %s\n", sqlpool_errmsg());
        sqlpool_release(conn);
    } else {
        /* The statement belongs to the connection's cache: step it, never finalize it. */
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            printf("minimal: sqlpool %s on SQLite %s\n", sqlpool_version(),
                   (const char *)sqlite3_column_text(stmt, 0));
            status = 0;
        } else {
            fprintf(stderr, "minimal: %s\n", sqlite3_errmsg(sqlpool_conn_sqlite(conn)));
        }
        sqlpool_release(conn);
    }
    sqlpool_close(pool);
    return status;
}
