/*
 * adapter.h: one connection pool behind four calls, so bench_pools.c can drive sqlpool,
 * APR's apr_reslist, libzdb's ConnectionPool, a bare mutex pair and "no pool" alike, as
 * HikariCP's benchmark drives each Java pool behind one DataSource.
 *
 * Every adapter opens the same SQLite file (WAL, created by bench_pools.c), at most `max`
 * connections at once. acquire() blocks until it has a connection and returns it (never
 * NULL: on an error it prints why and exits, as a benchmark may); release() gives it back;
 * select1() runs "SELECT 1" on it the way that pool's users would, and returns 1 when the
 * row came back as 1. A handle belongs to the calling thread between acquire and release.
 */
#ifndef BENCH_ADAPTER_H
#define BENCH_ADAPTER_H

typedef struct bench_adapter {
    const char *name;      /* the table's label */
    const char *statement; /* how select1 runs SELECT 1; NULL: no statement cycle */
    void *(*open)(const char *path, int max);
    void (*close)(void *pool);
    void *(*acquire)(void *pool);
    void (*release)(void *pool, void *conn);
    int (*select1)(void *pool, void *conn);
} bench_adapter;

extern const bench_adapter bench_sqlpool_adapter;
extern const bench_adapter bench_sqlpool_barge_adapter; /* throughput mode */
extern const bench_adapter bench_mutex_adapter;
extern const bench_adapter bench_nopool_adapter;
#ifdef BENCH_HAVE_APR
extern const bench_adapter bench_apr_adapter;
#endif
#ifdef BENCH_HAVE_ZDB
extern const bench_adapter bench_zdb_adapter;
#endif

/* The sqlpool adapter with the maintenance thread off (idle_timeout and max_lifetime 0), so
 * a process can measure it before it has ever started a thread. */
void *bench_sqlpool_open_threadless(const char *path, int max);

/* Print "bench_pools: what: detail" to stderr and exit(1). */
void bench_die(const char *what, const char *detail);

/* Open path the way every adapter does (read-write, no SQLite mutex: one thread per
 * connection at a time) with a busy timeout; exits on failure. */
struct sqlite3;
struct sqlite3 *bench_sqlite_open(const char *path);

/* prepare, step, check, finalize: "SELECT 1" the way a user without a statement cache runs
 * it. Returns 1 when the row came back as 1. */
int bench_sqlite_select1_once(struct sqlite3 *db);

#endif
