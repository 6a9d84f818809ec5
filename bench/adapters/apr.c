/* apr.c: APR-util's apr_reslist (min 0, smax 4, hmax 4, no TTL) holding SQLite connections.
 * acquire blocks on the reslist's condition variable when all hmax are out. A reslist has
 * no statement cache, so the statement cycle prepares, steps and finalizes on every use. */
#include "adapter.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_reslist.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct apr_bench_pool {
    apr_pool_t *mem;
    apr_reslist_t *list;
    char path[4096];
} apr_bench_pool;

static apr_status_t construct(void **resource, void *params, apr_pool_t *mem) {
    apr_bench_pool *p = params;
    (void)mem;
    *resource = bench_sqlite_open(p->path);
    return APR_SUCCESS;
}

static apr_status_t destruct(void *resource, void *params, apr_pool_t *mem) {
    (void)params;
    (void)mem;
    (void)sqlite3_close_v2(resource);
    return APR_SUCCESS;
}

static void check(apr_status_t rc, const char *what) {
    char buf[256];
    if (rc != APR_SUCCESS) bench_die(what, apr_strerror(rc, buf, sizeof buf));
}

static void *pool_open(const char *path, int max) {
    apr_bench_pool *p = calloc(1, sizeof *p);
    if (p == NULL || strlen(path) >= sizeof p->path) bench_die("apr_reslist", "bad path");
    strcpy(p->path, path);
    check(apr_initialize(), "apr_initialize");
    check(apr_pool_create(&p->mem, NULL), "apr_pool_create");
    check(apr_reslist_create(&p->list, 0, max, max, 0, construct, destruct, p, p->mem),
          "apr_reslist_create");
    return p;
}

static void pool_close(void *pool) {
    apr_bench_pool *p = pool;
    (void)apr_reslist_destroy(p->list);
    apr_pool_destroy(p->mem);
    apr_terminate();
    free(p);
}

static void *acquire(void *pool) {
    apr_bench_pool *p = pool;
    void *db = NULL;
    check(apr_reslist_acquire(p->list, &db), "apr_reslist_acquire");
    return db;
}

static void release(void *pool, void *conn) {
    apr_bench_pool *p = pool;
    check(apr_reslist_release(p->list, conn), "apr_reslist_release");
}

static int select1(void *pool, void *conn) {
    (void)pool;
    return bench_sqlite_select1_once(conn);
}

const bench_adapter bench_apr_adapter = {
    "apr_reslist", "prepare/step/finalize per use", pool_open, pool_close, acquire, release,
    select1,
};
