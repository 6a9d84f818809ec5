/* run.h: the state of one `sqlpool run`, which its orchestration (run.c) shares with the
 * backend that does the SQL (run_backend.h). */
#ifndef SQLPOOL_CLI_RUN_H
#define SQLPOOL_CLI_RUN_H

#include "labels.h"
#include "options.h"
#include "sqlpool.h"
#include "summary.h"

struct run_backend;

typedef struct run_ctx {
    const cli_options *opts;
    const struct run_backend *backend; /* the SQL for opts->db's kind, picked once */
    sqlpool *pool;
    label_reader in;
    summary out;
    long long inserted;
    long long base_id; /* max(id) before this run: its rows are base_id+1 .. last_id */
    long long last_id;
    int committed;      /* this run's rows are committed */
    char db_shown[512]; /* opts->db with any password masked, for messages */
} run_ctx;

#endif
