/* logger.h: log lines on stderr in the original's format:
 * "2026-11-26 15:10:04,123 | INFO | pool_create total=1 reused=0". */
#ifndef SQLPOOL_CLI_LOGGER_H
#define SQLPOOL_CLI_LOGGER_H

#include "sqlpool.h"

#include <stddef.h>

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
/* Copy text to out with every control byte (below 0x20, and DEL: a newline or a terminal
 * escape in a path) written as \xHH, as the library writes its messages; out is always
 * terminated (len > 0), truncated on an escape's boundary. logger_sink and commands_error
 * print every line through it, so no message can break a line or drive the terminal. */
void logger_escape_controls(const char *text, char *out, size_t len);
/* Parse "debug", "info", "warning" or "error"; -1 for anything else. */
int logger_parse_level(const char *name);

#endif
