/* error.c: result-code strings and the thread-local detail of the last failure, and the
 * escaping every message and log line gets. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[512];
/* The same message before escaping, for the library's own messages and log lines that quote
 * it (escaped once, where they are written: escaping an escaped text would double its
 * backslashes). */
static _Thread_local char last_raw[sizeof last_error];

const char *sqlpool_strerror(int code) {
    switch (code) {
    case SQLPOOL_OK: return "success";
    case SQLPOOL_EINVAL: return "invalid argument";
    case SQLPOOL_ENOMEM: return "out of memory";
    case SQLPOOL_ECONNECT: return "cannot connect to the database";
    case SQLPOOL_EBUSY: return "database busy";
    case SQLPOOL_EBROKEN: return "connection broken";
    case SQLPOOL_ECLOSED: return "pool closed";
    case SQLPOOL_EMISUSE: return "library misuse";
    case SQLPOOL_ENOTSUP: return "not supported";
    case SQLPOOL_ETIMEDOUT: return "timed out waiting for a connection";
    case SQLPOOL_EAGAIN: return "no connection available now";
    case SQLPOOL_EDEADLK: return "would wait while holding a connection of the same pool";
    default: return "unknown error";
    }
}

const char *sqlpool_errmsg(void) {
    return last_error;
}

const char *sqlpool__errmsg_raw(void) {
    return last_raw;
}

void sqlpool__clear_error(void) {
    last_error[0] = '\0';
    last_raw[0] = '\0';
}

/* One way to read each escape: a backslash is \\, a C0 control or DEL \xHH, a C1 control
 * in UTF-8 (0xc2 0x80..0x9f, U+0080..U+009F: a terminal's CSI is U+009B) \u00HH. */
void sqlpool__escape_controls(const char *text, char *out, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (len == 0) return;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\\') {
            if (o + 2 >= len) break;
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            if (o + 6 >= len) break;
            p++;
            (void)memcpy(out + o, "\\u00", 4);
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

int sqlpool__fail(int code, const char *fmt, ...) {
    char raw[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): analyzer FP, va_start is above */
    (void)vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* Arguments may be the previous message (sqlpool_errmsg()): escape from a copy. */
    sqlpool__escape_controls(raw, last_error, sizeof last_error);
    memcpy(last_raw, raw, sizeof last_raw);
    return code;
}

void sqlpool__format(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    if (len == 0) return;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): analyzer FP, va_start is above */
    (void)vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

void sqlpool__assert_fail(const char *what, const char *file, int line) {
    (void)fprintf(stderr, "sqlpool: internal check failed: %s (%s:%d)\n", what, file, line);
    abort();
}
