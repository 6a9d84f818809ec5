/* logger.h: log lines on stderr in the original's format:
 * "2026-11-26 15:10:04,123 | INFO | pool_create total=1 reused=0". */
#ifndef SQLPOOL_CLI_LOGGER_H
#define SQLPOOL_CLI_LOGGER_H

#include "sqlpool.h"

/* The most verbose level printed; SQLPOOL_LOG_*. Set once at start-up. */
void logger_set_level(int level);
int logger_level(void);
/* A sqlpool_log_fn: ctx is unused. */
void logger_sink(void *ctx, int level, const char *msg);
void logger_printf(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Parse "debug", "info", "warning" or "error"; -1 for anything else. */
int logger_parse_level(const char *name);

#endif
