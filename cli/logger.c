/* logger.c: timestamped log lines on stderr. */
#include "logger.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int current_level = SQLPOOL_LOG_INFO;
static const char *const level_names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

void logger_set_level(int level) {
    current_level = level;
}
int logger_level(void) {
    return current_level;
}

int logger_parse_level(const char *name) {
    static const char *const lower[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, lower[i]) == 0) return i;
    return -1;
}

void logger_escape_controls(const char *text, char *out, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (len == 0) return;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f) {
            if (o + 1 >= len) break;
            out[o++] = (char)*p;
        } else {
            if (o + 4 >= len) break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

void logger_sink(void *ctx, int level, const char *msg) {
    struct timespec ts;
    struct tm tm;
    char stamp[32], shown[2048];
    (void)ctx;
    if (level > current_level || level < 0 || level > SQLPOOL_LOG_DEBUG) return;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)localtime_r(&ts.tv_sec, &tm);
    if (strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm) == 0) stamp[0] = '\0';
    logger_escape_controls(msg, shown, sizeof shown);
    (void)fprintf(stderr, "%s,%03ld | %s | %s\n", stamp, ts.tv_nsec / 1000000L, level_names[level],
                  shown);
}

void logger_printf(int level, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    if (level > current_level) return;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    logger_sink(NULL, level, line);
}
