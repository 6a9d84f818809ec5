/*
 * fuzz_labels.c: the label reader (cli/labels.c) on arbitrary files. Every label must be
 * non-empty, valid UTF-8, one line, without NUL and stripped as Python's str.strip() does; an
 * error must be EXIT_DATAERR (naming the line and byte a reference reader finds) or
 * EXIT_IOERR, with a one-line message. utf8_valid is also checked against a reference decoder.
 */
#define _GNU_SOURCE /* memfd_create, memmem */
#include "exitcodes.h"
#include "labels.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int line, const char *fmt, ...) {
    va_list ap;
    (void)fprintf(stderr, "fuzz_labels.c:%d: invariant broken: ", line);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
    abort();
}
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) fail(__LINE__, __VA_ARGS__);                                                  \
    } while (0)

/* The input goes to an in-memory file (or an unlinked temporary one), rewritten for each run
 * and opened by its /proc/self/fd path, so nothing is left behind in /tmp. */
static int input_fd = -1;
static char input_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    input_fd = memfd_create("fuzz_labels", 0);
    if (input_fd < 0) {
        char tmpl[] = "/tmp/fuzz_labels.XXXXXX";
        input_fd = mkstemp(tmpl);
        if (input_fd >= 0) (void)unlink(tmpl);
    }
    CHECK(input_fd >= 0, "no temporary file for the input");
    (void)snprintf(input_path, sizeof input_path, "/proc/self/fd/%d", input_fd);
    return 0;
}

static void write_input(const uint8_t *data, size_t size) {
    size_t done = 0;
    CHECK(ftruncate(input_fd, 0) == 0, "ftruncate failed");
    while (done < size) {
        ssize_t n = pwrite(input_fd, data + done, size - done, (off_t)done);
        CHECK(n > 0, "pwrite failed");
        done += (size_t)n;
    }
}

/* Reference strict UTF-8 decoder, written from RFC 3629 independently of utf8_valid: a lead
 * byte is classified by its bit pattern, the code point decoded, then judged. Returns the
 * length of the sequence at s (> 0), or 0 when it is ill-formed; *cp gets the code point. */
static size_t ref_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    size_t need, k;
    uint32_t c = s[0], min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0)
        need = 1, c &= 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        need = 2, c &= 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        need = 3, c &= 0x07, min = 0x10000;
    else
        return 0; /* a continuation byte, or 0xf8..0xff */
    if (n <= need) return 0;
    for (k = 1; k <= need; k++) {
        if ((s[k] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[k] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return need + 1;
}

/* 1 when s[0..n) is valid; else 0 with *bad the offset of the first ill-formed sequence. */
static int ref_valid(const unsigned char *s, size_t n, size_t *bad) {
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        size_t k = ref_decode(s + i, n - i, &cp);
        if (k == 0) {
            *bad = i;
            return 0;
        }
        i += k;
    }
    return 1;
}

/* Python's str.isspace() for a code point. */
static int ref_space(uint32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 ||
           c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* The last code point of a valid, non-empty s[0..n). */
static uint32_t last_code_point(const unsigned char *s, size_t n) {
    size_t i = n - 1;
    uint32_t cp = 0;
    while (i > 0 && (s[i] & 0xc0) == 0x80)
        i--;
    CHECK(ref_decode(s + i, n - i, &cp) == n - i, "label does not end on a whole character");
    return cp;
}

/* What the reader must report: the first line (1-based; lines end at \n, \r\n or a lone \r)
 * with a NUL byte or invalid UTF-8, and for the latter the 1-based byte in that line. 0 when
 * the whole input is good; *good gets the number of lines before the bad one (or all). */
static long ref_first_bad(const unsigned char *d, size_t n, long *good, size_t *byte) {
    size_t pos = 0;
    long lineno = 0;
    *byte = 0;
    while (pos < n) {
        size_t end = pos, start = 0, bad;
        while (end < n && d[end] != '\n' && d[end] != '\r')
            end++;
        lineno++;
        *good = lineno - 1;
        if (memchr(d + pos, '\0', end - pos) != NULL) return lineno;
        if (lineno == 1 && end - pos >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) start = 3;
        if (!ref_valid(d + pos + start, end - pos - start, &bad)) {
            *byte = start + bad + 1;
            return lineno;
        }
        pos = end + (end + 1 < n && d[end] == '\r' && d[end + 1] == '\n' ? 2 : 1);
    }
    *good = lineno;
    return 0;
}

static void check_utf8_valid(const uint8_t *data, size_t size) {
    size_t bad = (size_t)-1, ref_bad = (size_t)-1;
    int ok = utf8_valid(data, size, &bad), ref_ok = ref_valid(data, size, &ref_bad);
    CHECK(ok == ref_ok, "utf8_valid says %d, the reference %d (reference offset %zu)", ok, ref_ok,
          ref_bad);
    if (!ok)
        CHECK(bad == ref_bad, "utf8_valid's bad offset %zu, the reference's %zu", bad, ref_bad);
}

static void check_label(const uint8_t *data, size_t size, const char *label, size_t len) {
    const unsigned char *u = (const unsigned char *)label;
    size_t bad;
    uint32_t first = 0;
    CHECK(len > 0, "an empty label");
    CHECK(strlen(label) == len, "len %zu but strlen %zu (NUL inside or not terminated)", len,
          strlen(label));
    CHECK(memchr(label, '\n', len) == NULL && memchr(label, '\r', len) == NULL,
          "a label with a line break");
    CHECK(utf8_valid(u, len, &bad) && ref_valid(u, len, &bad), "a label with invalid UTF-8");
    (void)ref_decode(u, len, &first);
    CHECK(!ref_space(first), "a label starting with white space U+%04X", (unsigned)first);
    CHECK(!ref_space(last_code_point(u, len)), "a label ending with white space");
    CHECK(memmem(data, size, label, len) != NULL, "a label that is not part of the input");
}

/* The number after `key` in msg (e.g. " line "), or -1. */
static long number_after(const char *msg, const char *key) {
    const char *p = strstr(msg, key);
    return p == NULL ? -1 : strtol(p + strlen(key), NULL, 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    label_reader r;
    char err[512];
    const char *label;
    size_t len, ref_byte;
    long count = 0, ref_lines, ref_line;
    int rc;

    check_utf8_valid(data, size);
    write_input(data, size);
    err[0] = '\0';
    rc = labels_open(&r, input_path, err, sizeof err);
    CHECK(rc == 0, "labels_open failed: %d %s", rc, err);
    while ((rc = labels_next(&r, &label, &len, err, sizeof err)) == 1) {
        check_label(data, size, label, len);
        count++;
    }
    labels_close(&r);

    ref_line = ref_first_bad(data, size, &ref_lines, &ref_byte);
    CHECK(count <= ref_lines, "%ld labels from %ld good lines", count, ref_lines);
    if (rc == 0) {
        CHECK(ref_line == 0, "end of input, but line %ld is bad", ref_line);
        return 0;
    }
    CHECK(rc == EXIT_DATAERR || rc == EXIT_IOERR, "labels_next returned %d", rc);
    CHECK(err[0] != '\0' && strchr(err, '\n') == NULL, "error %d with message '%s'", rc, err);
    if (rc == EXIT_DATAERR) {
        CHECK(ref_line > 0, "a data error (%s) in a good input", err);
        CHECK(number_after(err, " line ") == ref_line, "'%s', but the bad line is %ld", err,
              ref_line);
        if (ref_byte > 0)
            CHECK(number_after(err, "at byte ") == (long)ref_byte, "'%s', but the bad byte is %zu",
                  err, ref_byte);
        else
            CHECK(strstr(err, "NUL") != NULL, "'%s', but the line has a NUL byte", err);
    }
    return 0;
}
