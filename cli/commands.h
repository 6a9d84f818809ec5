/* commands.h: the CLI's subcommands. Each returns the process exit status. */
#ifndef SQLPOOL_CLI_COMMANDS_H
#define SQLPOOL_CLI_COMMANDS_H

#include "options.h"
#include "sqlpool.h"

/* sqlpool run: the SQL Connection Simulator demo. */
int command_run(const cli_options *opts);
/* sqlpool health: check a database; 0 healthy, 1 unhealthy, 2 unreachable. */
int command_health(const cli_options *opts);

/* The pool configuration both commands share, from the flags. */
void commands_pool_config(const cli_options *opts, sqlpool_config *cfg);
/* The exit status for a failed acquire or open. */
int commands_exit_for(int sqlpool_code);
/* Print "sqlpool: <message>" on stderr. */
void commands_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
