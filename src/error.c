/* error.c: result-code strings and the thread-local detail of the last failure, and the
 * escaping every message and log line gets. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

static _Thread_local char last_error[512];

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
    default: return "unknown error";
    }
}

const char *sqlpool_errmsg(void) {
    return last_error;
}

void sqlpool__clear_error(void) {
    last_error[0] = '\0';
}

void sqlpool__escape_controls(const char *text, char *out, size_t len) {
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

int sqlpool__fail(int code, const char *fmt, ...) {
    char raw[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): analyzer FP, va_start is above */
    (void)vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* Arguments may be the previous message (sqlpool_errmsg()): escape from a copy. */
    sqlpool__escape_controls(raw, last_error, sizeof last_error);
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
