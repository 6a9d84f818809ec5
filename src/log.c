/* log.c: formatting of the library's log lines; the sink is the caller's. */
#include "internal.h"

#include <stdio.h>

void sqlpool__log(const sqlpool_config *cfg, int level, const char *fmt, ...) {
    char line[512];
    va_list ap;
    if (!sqlpool__log_enabled(cfg, level)) return;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): analyzer FP, va_start is above */
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg->log(cfg->log_ctx, level, line);
}
