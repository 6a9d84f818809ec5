/* commands.c: what the subcommands share: pool settings from flags, exit codes, errors. */
#include "commands.h"

#include "exitcodes.h"
#include "logger.h"

#include <stdarg.h>
#include <stdio.h>

void commands_pool_config(const cli_options *opts, sqlpool_config *cfg) {
    sqlpool_config_init(cfg);
    cfg->db = opts->db;
    cfg->max_idle = opts->pool_size;
    cfg->max_retries = opts->retries;
    cfg->connect_timeout = opts->timeout;
    cfg->init_sql = opts->init_sql;
    cfg->pg_reset_query = opts->pg_reset_query;
    cfg->pg_unnamed_statements = opts->pg_unnamed_statements;
    cfg->statement_timeout = opts->statement_timeout;
    cfg->read_db = opts->read_db;
    cfg->log = logger_sink;
    cfg->log_level = opts->log_level;
}

int commands_exit_for(int code) {
    switch (code) {
    case SQLPOOL_EINVAL: return EXIT_USAGE;
    case SQLPOOL_EBUSY: return EXIT_TEMPFAIL;
    case SQLPOOL_ENOMEM: return EXIT_SOFTWARE;
    default: return EXIT_UNAVAILABLE;
    }
}

void commands_error(const char *fmt, ...) {
    char line[1024], shown[2048];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    logger_escape_controls(line, shown, sizeof shown); /* paths may hold newlines, ESC */
    (void)fprintf(stderr, "sqlpool: %s\n", shown);
}
