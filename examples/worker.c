/* worker.c: a web-style worker pool. THREADS threads each handle REQUESTS "requests"; a
 * request borrows a connection for its whole duration and gives it back on every path
 * (SQLPOOL_SCOPED). The pool opens at most MAX_OPEN connections, fewer than the threads, so
 * requests queue for a connection, first come first served. The stats show it at the end. */
#define _POSIX_C_SOURCE 200809L
#include <sqlpool.h>
#include <sqlite3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#ifndef SQLPOOL_SCOPED
#error "worker.c uses SQLPOOL_SCOPED, which needs GCC or Clang"
#endif

enum { THREADS = 8, REQUESTS = 200, MAX_OPEN = 3 };

static sqlpool *pool;
static atomic_int failures;

/* Once, at start-up: sqlpool_with() is the other scoped form (acquire, call, release). */
static int create_schema(sqlpool_conn *conn, void *ctx) {
    (void)ctx;
    const char *sql = "CREATE TABLE hits (worker INTEGER, request INTEGER)";
    return sqlite3_exec(sqlpool_conn_sqlite(conn), sql, NULL, NULL, NULL) == SQLITE_OK
               ? SQLPOOL_OK
               : SQLPOOL_EINVAL;
}

/* One request: record a hit, then read the running total. Every return releases conn. */
static int handle_request(int worker, int request) {
    SQLPOOL_SCOPED sqlpool_conn *conn = NULL;
    sqlite3_stmt *stmt;

    if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) return -1; /* waits up to 30 s */
    if (sqlpool_conn_prepare(conn, "INSERT INTO hits VALUES (?1, ?2)", &stmt) != SQLPOOL_OK)
        return -1;
    sqlite3_bind_int(stmt, 1, worker);
    sqlite3_bind_int(stmt, 2, request);
    if (sqlite3_step(stmt) != SQLITE_DONE) return -1;
    if (sqlpool_conn_prepare(conn, "SELECT count(*) FROM hits", &stmt) != SQLPOOL_OK) return -1;
    if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_int(stmt, 0) < 1) return -1;
    return 0;
}

static void *worker_main(void *arg) {
    int worker = (int)(size_t)arg;
    for (int request = 0; request < REQUESTS; request++) {
        if (handle_request(worker, request) != 0) {
            fprintf(stderr, "worker %d: request %d failed: %s\n", worker, request,
                    sqlpool_errmsg());
            atomic_fetch_add(&failures, 1);
        }
    }
    return NULL;
}

int main(void) {
    sqlpool_config cfg;
    pthread_t threads[THREADS];
    sqlpool_stats st;

    sqlpool_config_init(&cfg); /* ":memory:": one database shared by the pool's connections */
    cfg.max_open = MAX_OPEN;
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) {
        fprintf(stderr, "worker: %s\n", sqlpool_errmsg());
        return 1;
    }
    if (sqlpool_with(pool, create_schema, NULL) != SQLPOOL_OK) {
        fprintf(stderr, "worker: cannot create the table\n");
        sqlpool_close(pool);
        return 1;
    }
    for (int i = 0; i < THREADS; i++) {
        if (pthread_create(&threads[i], NULL, worker_main, (void *)(size_t)i) != 0) {
            fprintf(stderr, "worker: cannot start thread %d\n", i);
            return 1;
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);

    sqlpool_stats_get(pool, &st);
    printf("worker: %d threads x %d requests, %d failed; connections created %lld (max_open %d), "
           "reused %lld, peak in use %d, waited %lld times (p99 %.3f ms, max %.3f ms)\n",
           THREADS, REQUESTS, atomic_load(&failures), st.created, st.max_open, st.reused,
           st.peak_in_use, st.wait_count, st.wait_p99 * 1e3, st.wait_max * 1e3);
    sqlpool_close(pool);
    return atomic_load(&failures) == 0 && st.peak_in_use <= MAX_OPEN ? 0 : 1;
}
