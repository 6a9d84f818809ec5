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
        if (*p == '\\') {
            if (o + 2 >= len) break;
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* U+0080..U+009F */
            if (o + 6 >= len) break;
            p++;
            memcpy(out + o, "\\u00", 4);
            o += 4;
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else if (*p >= 0x20 && *p != 0x7f) {
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

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The value of the two hex digits at p, or -1. */
static int hex_byte(const char *p) {
    int hi = hex_value(p[0]), lo = hi < 0 ? -1 : hex_value(p[1]);
    return lo < 0 ? -1 : hi * 16 + lo;
}

void logger_unescape(const char *text, char *out, size_t len) {
    size_t o = 0;
    int b;
    if (len == 0) return;
    for (const char *p = text; *p && o + 2 < len; p++) {
        if (p[0] == '\\' && p[1] == '\\') {
            out[o++] = '\\';
            p++;
        } else if (p[0] == '\\' && p[1] == 'x' && (b = hex_byte(p + 2)) > 0) {
            out[o++] = (char)b;
            p += 3;
        } else if (strncmp(p, "\\u00", 4) == 0 && (b = hex_byte(p + 4)) >= 0x80 && b <= 0x9f) {
            out[o++] = (char)0xc2;
            out[o++] = (char)b;
            p += 5;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

const char *logger_errmsg(void) {
    static _Thread_local char raw[1024];
    logger_unescape(sqlpool_errmsg(), raw, sizeof raw);
    return raw;
}

/* Write one log line; shown is escaped already. */
static void write_line(int level, const char *shown) {
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)localtime_r(&ts.tv_sec, &tm);
    if (strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm) == 0) stamp[0] = '\0';
    (void)fprintf(stderr, "%s,%03ld | %s | %s\n", stamp, ts.tv_nsec / 1000000L, level_names[level],
                  shown);
}

void logger_sink(void *ctx, int level, const char *msg) {
    char raw[2048], shown[2048];
    (void)ctx;
    if (level > current_level || level < 0 || level > SQLPOOL_LOG_DEBUG) return;
    /* The library escaped its line: undone and done again, it reads the same, and anything
     * raw that got through is escaped too. */
    logger_unescape(msg, raw, sizeof raw);
    logger_escape_controls(raw, shown, sizeof shown);
    write_line(level, shown);
}

void logger_printf(int level, const char *fmt, ...) {
    char line[1024], shown[2048];
    va_list ap;
    if (level > current_level) return;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (level < 0 || level > SQLPOOL_LOG_DEBUG) return;
    logger_escape_controls(line, shown, sizeof shown);
    write_line(level, shown);
}
