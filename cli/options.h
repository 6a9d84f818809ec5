/* options.h: the command line: subcommand, flags and their validation. */
#ifndef SQLPOOL_CLI_OPTIONS_H
#define SQLPOOL_CLI_OPTIONS_H

#include <stddef.h>

typedef enum { CMD_RUN, CMD_HEALTH } cli_command;

typedef struct cli_options {
    cli_command command;
    const char *input;    /* --input, default data/sample_input.txt */
    int input_given;      /* --input was given (else main.c may pick the installed sample) */
    const char *output;   /* --output, default data/output_summary.json */
    const char *db;       /* --db, default :memory: */
    const char *init_sql; /* --init-sql: run on every new connection (config.init_sql) */
    /* PostgreSQL only (refused for a SQLite --db): */
    const char *pg_reset_query; /* --pg-reset-query: config.pg_reset_query, or NULL */
    int pg_unnamed_statements;  /* --pg-unnamed-statements: config.pg_unnamed_statements */
    double statement_timeout;   /* --statement-timeout seconds: config.statement_timeout */
    const char *read_db;        /* --read-db (run): config.read_db, or NULL */
    int pool_size;              /* --pool-size, default 5 */
    double timeout;             /* --timeout seconds, default 5.0 */
    int retries;                /* --retries, default 3 */
    int quiet;                  /* --quiet: no copy of the JSON on stdout */
    int log_level;              /* --log-level, default info */
    int help;                   /* --help */
    int version;                /* --version */
} cli_options;

/* Parse argv. Returns 0, or EXIT_USAGE with a one-line message in err. */
int options_parse(int argc, char **argv, cli_options *opts, char *err, size_t errlen);

/* Format a one-line usage message into err; returns EXIT_USAGE. */
int options_usage_error(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* A user's value made safe to echo on one line: escaped as logger_escape_controls does
 * (so every user's text in a parser's message is escaped: logger_unescape gives it back
 * before commands_error escapes the line once), long ones cut. Returns buf. */
const char *options_shown(const char *text, char *buf, size_t len);

/* The one-line refusal of a PostgreSQL-only flag (without its "--") on a SQLite --db, for
 * run, health and bench alike. A thread-local buffer, valid until the next call. */
const char *options_pg_only_message(const char *flag);

/* Parse a whole decimal integer in [min, max]; 0 on success, -1 otherwise. Exposed for
 * tests and for the other commands' flags. */
int options_parse_int(const char *text, long min, long max, long *out);
/* Parse a plain decimal number in [min, max]: an optional '-', digits, and an optional '.'
 * followed by digits (no exponent, no trailing point); 0 on success, -1 otherwise. */
int options_parse_seconds(const char *text, double min, double max, double *out);

#endif
