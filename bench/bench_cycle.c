/*
 * bench_cycle: N acquire + release cycles on one thread of a default-configured pool, nothing
 * else. For counting instructions, which callgrind does repeatably on a shared machine where
 * the clock does not: bench/cycle_count.sh runs it for two N and prints the difference per
 * cycle (the pool's open and close cancel out).
 *
 * Usage: bench_cycle [N >= 1] (default 100000)
 */
#include <sqlpool.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    sqlpool_config cfg;
    sqlpool *pool = NULL;
    if (n < 1) {
        (void)fprintf(stderr, "usage: bench_cycle [N >= 1]\n");
        return 64;
    }
    sqlpool_config_init(&cfg);
    if (sqlpool_open(&cfg, &pool) != SQLPOOL_OK) {
        (void)fprintf(stderr, "bench_cycle: open: %s\n", sqlpool_errmsg());
        return 1;
    }
    for (long i = 0; i < n; i++) {
        sqlpool_conn *conn = NULL;
        if (sqlpool_acquire(pool, &conn) != SQLPOOL_OK) {
            (void)fprintf(stderr, "bench_cycle: acquire: %s\n", sqlpool_errmsg());
            return 1;
        }
        sqlpool_release(conn);
    }
    sqlpool_close(pool);
    return 0;
}
