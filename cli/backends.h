/* backends.h: which backend table serves a --db string, for `sqlpool run` and `sqlpool
 * bench`: the one place in the CLI that knows which backends this build has. */
#ifndef SQLPOOL_CLI_BACKENDS_H
#define SQLPOOL_CLI_BACKENDS_H

#include "bench_backend.h"
#include "run_backend.h"

#include <stddef.h>

/* The tables for db (sqlpool_db_backend() says which); NULL for PostgreSQL in a build without
 * libpq. */
const run_backend *backends_run(const char *db);
const bench_backend *backends_bench(const char *db);

/* The line --version prints about PostgreSQL: the libpq version built with, or that there is
 * none, without a newline. */
void backends_pg_version(char *buf, size_t len);

#endif
