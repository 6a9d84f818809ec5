/* logger.h: log lines on stderr in the original's format:
 * "2026-11-26 15:10:04,123 | INFO | pool_create total=1 reused=0". */
#ifndef SQLPOOL_CLI_LOGGER_H
#define SQLPOOL_CLI_LOGGER_H

#include "sqlpool.h"

#include <stddef.h>

/* The most verbose level printed; SQLPOOL_LOG_*. Set once at start-up. */
void logger_set_level(int level);
int logger_level(void);
/* A sqlpool_log_fn: ctx is unused. msg is the library's, escaped already (see
 * logger_unescape): written as it reads. */
void logger_sink(void *ctx, int level, const char *msg);
/* Lines of the CLI's own, escaped as a whole. */
void logger_printf(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Copy text to out with every control byte (below 0x20, and DEL: a newline or a terminal
 * escape in a path) written as \xHH, a C1 control in UTF-8 (U+0080..U+009F, such as CSI) as
 * \u00HH and a backslash as \\, as the library writes its messages: each escape reads one
 * way. out is always terminated (len > 0), truncated on an escape's boundary. logger_sink,
 * logger_printf and commands_error print every line through it, so no message can break a
 * line or drive the terminal. */
void logger_escape_controls(const char *text, char *out, size_t len);
/* The reverse, for the library's escaped words (sqlpool_errmsg(), its log lines) before they
 * go into a line that is escaped as a whole: escaped twice, a newline would read \\x0a. */
void logger_unescape(const char *text, char *out, size_t len);
/* sqlpool_errmsg() unescaped (thread-local): what commands_error and err buffers quote. */
const char *logger_errmsg(void);
/* Parse "debug", "info", "warning" or "error"; -1 for anything else. */
int logger_parse_level(const char *name);

#endif
