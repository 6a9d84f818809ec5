/* labels.c: reading and checking the demo's labels. */
#include "labels.h"

#include "exitcodes.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int labels_open(label_reader *r, const char *path, char *err, size_t errlen) {
    struct stat sb;
    memset(r, 0, sizeof *r);
    r->path = path;
    r->file = fopen(path, "rb");
    if (r->file == NULL) {
        (void)snprintf(err, errlen, "cannot read input '%s': %s", path, strerror(errno));
        return EXIT_NOINPUT;
    }
    if (fstat(fileno(r->file), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        (void)snprintf(err, errlen, "cannot read input '%s': it is a folder", path);
        labels_close(r);
        return EXIT_NOINPUT;
    }
    return 0;
}

void labels_close(label_reader *r) {
    if (r->file != NULL) (void)fclose(r->file);
    free(r->line);
    r->file = NULL;
    r->line = NULL;
}

/* Python's str.strip() on ASCII: space, \t \n \v \f \r and the separators \x1c-\x1f. */
static int is_space(unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f); }

int utf8_valid(const unsigned char *s, size_t len, size_t *bad_offset) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) n = 1, cp = c & 0x1fu, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef) n = 2, cp = c & 0x0fu, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4) n = 3, cp = c & 0x07u, min = 0x10000;
        else goto bad;
        if (len - i - 1 < n) goto bad;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) goto bad;
        i += n + 1;
    }
    return 1;
bad:
    *bad_offset = i;
    return 0;
}

int labels_next(label_reader *r, const char **label, size_t *len, char *err, size_t errlen) {
    for (;;) {
        ssize_t got;
        size_t start = 0, end, bad;

        errno = 0;
        got = getline(&r->line, &r->cap, r->file);
        if (got < 0) {
            if (ferror(r->file)) {
                (void)snprintf(err, errlen, "cannot read input '%s' after line %ld: %s", r->path,
                               r->lineno, strerror(errno ? errno : EIO));
                return EXIT_IOERR;
            }
            return 0;
        }
        r->lineno++;
        end = (size_t)got;
        if (memchr(r->line, '\0', end) != NULL) {
            (void)snprintf(err, errlen, "input '%s' line %ld: contains a NUL byte", r->path,
                           r->lineno);
            return EXIT_DATAERR;
        }
        /* A UTF-8 byte order mark at the very start is an encoding marker, not a label. */
        if (r->lineno == 1 && end >= 3 && memcmp(r->line, "\xef\xbb\xbf", 3) == 0) start = 3;
        if (!utf8_valid((const unsigned char *)r->line + start, end - start, &bad)) {
            (void)snprintf(err, errlen, "input '%s' line %ld: invalid UTF-8 at byte %zu", r->path,
                           r->lineno, start + bad + 1);
            return EXIT_DATAERR;
        }
        while (start < end && is_space((unsigned char)r->line[start])) start++;
        while (end > start && is_space((unsigned char)r->line[end - 1])) end--;
        if (start == end) continue;
        r->line[end] = '\0';
        *label = r->line + start;
        *len = end - start;
        return 1;
    }
}
