/* run.h: what `sqlpool run`'s backend-neutral part (run.c) shares with its PostgreSQL part
 * (run_pg.c). */
#ifndef SQLPOOL_CLI_RUN_H
#define SQLPOOL_CLI_RUN_H

#include "labels.h"
#include "options.h"
#include "sqlpool.h"
#include "summary.h"

#include <stddef.h>

typedef struct run_ctx {
    const cli_options *opts;
    sqlpool *pool;
    label_reader in;
    summary out;
    long long inserted;
    long long base_id; /* max(id) before this run: its rows are base_id+1 .. last_id */
    long long last_id;
    int committed;      /* this run's rows are committed */
    char db_shown[512]; /* opts->db with any password masked, for messages */
} run_ctx;

/* Log the count and open the "rows" array; then close it and flush the output (0, or an
 * exit status with the error printed). */
void run_rows_begin(run_ctx *r);
int run_rows_end(run_ctx *r);

/* run_pg.c: the first borrow on PostgreSQL: create, COPY the labels in, stream the rows
 * out, commit (or roll back). 0 or an exit status, the error printed. */
int run_pg_first_pass(run_ctx *r, sqlpool_conn *conn);
/* Run one statement; the number of rows it changed (0 when it says none), or -1 with the
 * error in why. */
long long run_pg_exec(sqlpool_conn *conn, const char *sql, char *why, size_t whylen);

#endif
