/* bench_backend.h: what `sqlpool bench` needs from a database, as a table of functions: one
 * per backend (bench_sqlite.c, bench_pg.c), picked once for --db (backends.h). The driver
 * (bench.c) calls through it and asks it what the backend can do; a NULL entry is a thing
 * this backend does not do. */
#ifndef SQLPOOL_CLI_BENCH_BACKEND_H
#define SQLPOOL_CLI_BENCH_BACKEND_H

#include "bench.h"

#include <stddef.h>

typedef struct bench_backend {
    /* The options this backend cannot serve, refused before anything runs: 0, or EXIT_USAGE
     * with the error printed. NULL: it serves them all. */
    int (*check)(const bench_options *o);
    /* The db string every connection of the bench uses, made from --db; the caller frees it.
     * NULL when out of memory. NULL entry: --db as given. */
    char *(*tag_db)(const char *db);
    /* Create the bench table (insert, read-write, mixed): 0, or -1 with a message in err. */
    int (*setup)(bench_run *r, char *err, size_t errlen);
    /* Count its rows: 0, or -1 with a message in err. */
    int (*count)(bench_run *r, long long *rows, char *err, size_t errlen);
    /* One transaction of the workload, a read or a write as k says (bench_next_kind()),
     * counted in t: 0 when it committed, else -1. */
    int (*transaction)(bench_run *r, bench_tally *t, bench_kind k);
    /* Break one pooled connection (--kill-every), an idle one when there is one: 1 when one
     * was broken, 0 when there was none to break, -1 on failure. NULL: a connection cannot be
     * broken from outside (check refuses
     * --kill-every). */
    int (*kill_one)(bench_run *r);
} bench_backend;

extern const bench_backend bench_sqlite_backend;
extern const bench_backend bench_pg_backend; /* built with libpq only */

#endif
