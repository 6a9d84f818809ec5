/* backends.c: the backend tables by db string (see backends.h). */
#include "backends.h"

#include "sqlpool.h"

#include <stdio.h>
#include <string.h>

#ifdef SQLPOOL_CLI_HAVE_PG
#include <libpq-fe.h>
#endif

static int is_pg(const char *db) {
    return strcmp(sqlpool_db_backend(db), "postgresql") == 0;
}

const run_backend *backends_run(const char *db) {
    if (!is_pg(db)) return &run_sqlite_backend;
#ifdef SQLPOOL_CLI_HAVE_PG
    return &run_pg_backend;
#else
    return NULL;
#endif
}

const bench_backend *backends_bench(const char *db) {
    if (!is_pg(db)) return &bench_sqlite_backend;
#ifdef SQLPOOL_CLI_HAVE_PG
    return &bench_pg_backend;
#else
    return NULL;
#endif
}

void backends_pg_version(char *buf, size_t len) {
#ifdef SQLPOOL_CLI_HAVE_PG
    (void)snprintf(buf, len, "PostgreSQL client library (libpq) %d.%d", PQlibVersion() / 10000,
                   PQlibVersion() % 10000);
#else
    (void)snprintf(buf, len, "PostgreSQL: not built in");
#endif
}
