/* log.c: formatting of the library's log lines; the sink is the caller's. */
#include "internal.h"

#include <stdio.h>

void sqlpool__log(const sqlpool_config *cfg, int level, const char *fmt, ...) {
    char raw[512], line[512];
    va_list ap;
    if (!sqlpool__log_enabled(cfg, level)) return;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): analyzer FP, va_start is above */
    (void)vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* The sink is promised one line: a path's newline or ESC is shown, not sent. */
    sqlpool__escape_controls(raw, line, sizeof line);
    cfg->log(cfg->log_ctx, level, line);
}
