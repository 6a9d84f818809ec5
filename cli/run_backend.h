/* run_backend.h: what `sqlpool run` needs from a database, as a table of functions: one per
 * backend (run_sqlite.c, run_pg.c), picked once for the --db string (backends.h). run.c
 * calls them in the order its header comment gives; each reports its own errors. */
#ifndef SQLPOOL_CLI_RUN_BACKEND_H
#define SQLPOOL_CLI_RUN_BACKEND_H

#include "run.h"
#include "sqlpool.h"

#include <stddef.h>

typedef struct run_backend {
    /* On the first borrow: open the transaction, create events (or check a user's own), read
     * r->base_id, insert every label of r->in (all or none: a bad one fails the call), and
     * set r->inserted and r->last_id; whatever else reading the rows back needs is prepared
     * here too. 0, or an exit status with the error printed. */
    int (*load)(run_ctx *r, sqlpool_conn *conn);
    /* Still in the transaction: every row of events, by id, into r->out (summary_row). 0, or
     * an exit status with the error printed. */
    int (*dump_rows)(run_ctx *r, sqlpool_conn *conn);
    /* COMMIT: 0, or an exit status with the error printed. */
    int (*commit)(run_ctx *r, sqlpool_conn *conn);
    /* ROLLBACK, after a failure anywhere since load; errors ignored. */
    void (*rollback)(sqlpool_conn *conn);
    /* Run one statement outside a transaction: the number of rows it changed (0 when it says
     * none), or -1 with the error in why. */
    long long (*exec)(sqlpool_conn *conn, const char *sql, char *why, size_t whylen);
} run_backend;

extern const run_backend run_sqlite_backend;
extern const run_backend run_pg_backend; /* built with libpq only */

#endif
