/* sqlpool.c: libsqlpool behind the adapter: max_open 4 (the benchmark's max), max_idle the
 * same, defaults otherwise (waiters strictly first come, first served). "sqlpool-barge" is
 * the same with throughput mode on (barge_window 1 ms). The statement cycle uses the
 * connection's statement cache. */
#include "adapter.h"

#include <sqlpool.h>
#include <sqlite3.h>

static void *open_with(sqlpool_config *cfg, const char *path, int max) {
    sqlpool *pool = NULL;
    cfg->db = path;
    cfg->max_open = max;
    cfg->max_idle = max;
    if (sqlpool_open(cfg, &pool) != SQLPOOL_OK) bench_die("sqlpool_open", sqlpool_errmsg());
    return pool;
}

static void *pool_open(const char *path, int max) {
    sqlpool_config cfg;
    sqlpool_config_init(&cfg);
    return open_with(&cfg, path, max);
}

static void *pool_open_barge(const char *path, int max) {
    sqlpool_config cfg;
    sqlpool_config_init(&cfg);
    cfg.barge_window = 0.001;
    return open_with(&cfg, path, max);
}

void *bench_sqlpool_open_threadless(const char *path, int max) {
    sqlpool_config cfg;
    sqlpool_config_init(&cfg);
    cfg.idle_timeout = 0; /* with nothing to expire, no maintenance thread starts */
    cfg.max_lifetime = 0;
    return open_with(&cfg, path, max);
}

static void pool_close(void *pool) {
    sqlpool_close(pool);
}

static void *acquire(void *pool) {
    sqlpool_conn *conn = NULL;
    int rc = (sqlpool_acquire)(pool, &conn);
    if (rc != SQLPOOL_OK) bench_die("sqlpool_acquire", sqlpool_errmsg());
    return conn;
}

static void release(void *pool, void *conn) {
    (void)pool;
    sqlpool_release(conn);
}

static int select1(void *pool, void *conn) {
    sqlite3_stmt *stmt = NULL;
    int ok;
    (void)pool;
    if (sqlpool_conn_prepare(conn, "SELECT 1", &stmt) != SQLPOOL_OK) return 0;
    ok = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1;
    (void)sqlite3_reset(stmt);
    return ok;
}

const bench_adapter bench_sqlpool_adapter = {
    "sqlpool", "sqlpool_conn_prepare (cached) + step + reset",
    pool_open, pool_close,
    acquire,   release,
    select1,
};

const bench_adapter bench_sqlpool_barge_adapter = {
    "sqlpool-barge", "sqlpool_conn_prepare (cached) + step + reset",
    pool_open_barge, pool_close,
    acquire,         release,
    select1,
};
