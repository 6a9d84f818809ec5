/* nopool.c: no pool at all: every use opens the database and closes it again. */
#include "adapter.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static void *pool_open(const char *path, int max) {
    char *copy = malloc(strlen(path) + 1);
    (void)max;
    if (copy == NULL) bench_die("no pool", "no memory");
    return strcpy(copy, path);
}

static void pool_close(void *pool) {
    free(pool);
}

static void *acquire(void *pool) {
    return bench_sqlite_open(pool);
}

static void release(void *pool, void *conn) {
    (void)pool;
    (void)sqlite3_close_v2(conn);
}

static int select1(void *pool, void *conn) {
    (void)pool;
    return bench_sqlite_select1_once(conn);
}

const bench_adapter bench_nopool_adapter = {
    "no pool", "sqlite3_open_v2 + prepare/step/finalize + close",
    pool_open, pool_close,
    acquire,   release,
    select1,
};
