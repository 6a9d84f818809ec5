/* zdb.c: libzdb's ConnectionPool on "sqlite:///path", 4 connections at most (and 4 opened at
 * start: libzdb asserts initial <= max). ConnectionPool_getConnection() never waits: with all
 * connections out it returns NULL, so acquire retries, yielding the processor, as a libzdb
 * user must. Errors are setjmp exceptions; every call that can throw sits in TRY/END_TRY,
 * and no local changed inside one is read after a longjmp unless it is volatile. */
#include "adapter.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <zdb.h>

typedef struct zdb_bench_pool {
    URL_T url;
    ConnectionPool_T pool;
} zdb_bench_pool;

static void on_abort(const char *error) {
    bench_die("libzdb", error);
}

static void *pool_open(const char *path, int max) {
    char url[4200];
    zdb_bench_pool *p = calloc(1, sizeof *p);
    if (p == NULL) bench_die("libzdb", "no memory");
    (void)snprintf(url, sizeof url, "sqlite://%s", path);
    p->url = URL_new(url);
    if (p->url == NULL) bench_die("libzdb: bad URL", url);
    p->pool = ConnectionPool_new(p->url);
    ConnectionPool_setAbortHandler(p->pool, on_abort);
    ConnectionPool_setInitialConnections(p->pool, max);
    ConnectionPool_setMaxConnections(p->pool, max);
    TRY {
        ConnectionPool_start(p->pool);
    }
    CATCH(SQLException) {
        bench_die("ConnectionPool_start", Exception_frame.message);
    }
    END_TRY;
    return p;
}

static void pool_close(void *pool) {
    zdb_bench_pool *p = pool;
    ConnectionPool_free(&p->pool);
    URL_free(&p->url);
    free(p);
}

static void *acquire(void *pool) {
    zdb_bench_pool *p = pool;
    Connection_T conn;
    while ((conn = ConnectionPool_getConnection(p->pool)) == NULL)
        (void)sched_yield();
    return conn;
}

static void release(void *pool, void *conn) {
    (void)pool;
    Connection_close(conn);
}

static int select1(void *pool, void *conn) {
    volatile int ok = 0;
    (void)pool;
    TRY {
        ResultSet_T r = Connection_executeQuery(conn, "SELECT 1");
        ok = ResultSet_next(r) && ResultSet_getInt(r, 1) == 1;
    }
    CATCH(SQLException) {
        (void)fprintf(stderr, "bench_pools: libzdb: %s\n", Exception_frame.message);
    }
    END_TRY;
    return ok;
}

const bench_adapter bench_zdb_adapter = {
    "libzdb", "Connection_executeQuery + ResultSet_next", pool_open, pool_close, acquire, release,
    select1,
};
