/* labels.c: reading and checking the demo's labels. */
#include "labels.h"

#include "exitcodes.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/vfs.h> /* fstatfs */
#endif

#define IN_BUFFER (1 << 16)
/* The longest line read: 64 MiB (a label that long is surely not one). */
#define LINE_MAX_BYTES (64 << 20)

/* 0 for a file on a filesystem whose st_size is not what a read gives: /proc says 0 and
 * gives more, sysfs says 4096 and gives what it has (as do debugfs, tracefs, securityfs,
 * configfs and cgroup files). Its modification time is still held to. */
static int size_is_length(int fd) {
#ifdef __linux__
    static const unsigned long pseudo[] = {
        0x9fa0UL /* proc */,           0x62656572UL /* sysfs */,
        0x64626720UL /* debugfs */,    0x74726163UL /* tracefs */,
        0x73636673UL /* securityfs */, 0x62656570UL /* configfs */,
        0x27e0ebUL /* cgroup */,       0x63677270UL /* cgroup2 */};
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0) return 1;
    for (size_t i = 0; i < sizeof pseudo / sizeof pseudo[0]; i++)
        if ((unsigned long)fs.f_type == pseudo[i]) return 0;
#else
    (void)fd;
#endif
    return 1;
}

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
    if (S_ISREG(sb.st_mode)) { /* a pipe or a device has no size to hold it to */
        r->regular = 1;
        r->sized = size_is_length(fileno(r->file));
        r->size = (long long)sb.st_size;
        r->mtime = sb.st_mtim;
    }
    /* Lines are cut out of large blocks read straight from the file. */
    if ((r->blk = malloc(IN_BUFFER)) == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        labels_close(r);
        return EXIT_SOFTWARE;
    }
    (void)setvbuf(r->file, NULL, _IONBF, 0);
    return 0;
}

long labels_line(const label_reader *r) {
    return r->lineno;
}

void labels_close(label_reader *r) {
    if (r->file != NULL) (void)fclose(r->file);
    free(r->line);
    free(r->blk);
    r->blk = NULL;
    r->file = NULL;
    r->line = NULL;
}

/* What Python's str.strip() removes: ASCII white space (space, \t \n \v \f \r and the
 * separators \x1c-\x1f) and Unicode's (NEL, NBSP, the U+2000 spaces, the line and paragraph
 * separators, U+3000 ...). */
static int is_ascii_space(unsigned char c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
}

/* The length of the Unicode white space character encoded at p, or 0. */
static size_t unicode_space_len(const unsigned char *p, size_t n) {
    if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0)) return 2;
    if (n < 3) return 0;
    if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) return 3; /* U+1680 */
    if (p[0] == 0xe2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
        return 3;                                               /* U+2000-200A, 2028, 2029, 202F */
    if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) return 3; /* U+205F */
    if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) return 3; /* U+3000 */
    return 0;
}

/* Strip [*start, *end) of white space at both ends; the text is valid UTF-8. */
static void strip(const unsigned char *s, size_t *start, size_t *end) {
    while (*start < *end) {
        size_t n = is_ascii_space(s[*start]) ? 1 : unicode_space_len(s + *start, *end - *start);
        if (n == 0) break;
        *start += n;
    }
    while (*end > *start) {
        size_t avail = *end - *start;
        if (is_ascii_space(s[*end - 1]))
            *end -= 1;
        else if (avail >= 2 && unicode_space_len(s + *end - 2, 2) == 2)
            *end -= 2;
        else if (avail >= 3 && unicode_space_len(s + *end - 3, 3) == 3)
            *end -= 3;
        else
            break;
    }
}

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
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1fu, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0fu, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07u, min = 0x10000;
        else
            goto bad;
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

/* At the end of a regular file: is it still the file that was opened? A file that shrank,
 * grew or was rewritten while it was read gave lines of no one version of it, so it is refused
 * (EXIT_IOERR: the read as a whole failed, as a read error midway would) rather than taken as
 * whatever part was seen. 0, or EXIT_IOERR with err set. */
static int check_unchanged(label_reader *r, char *err, size_t errlen) {
    struct stat sb;
    if (!r->regular) return 0;
    if (fstat(fileno(r->file), &sb) != 0) {
        (void)snprintf(err, errlen, "cannot read input '%s' after line %ld: %s", r->path, r->lineno,
                       strerror(errno));
        return EXIT_IOERR;
    }
    if (r->sized && (long long)sb.st_size != r->size)
        (void)snprintf(err, errlen, "input '%s' changed while it was read: from %lld to %lld bytes",
                       r->path, r->size, (long long)sb.st_size);
    else if (r->sized && r->bytes_read != r->size)
        (void)snprintf(err, errlen,
                       "input '%s' changed while it was read: %lld bytes read of its %lld", r->path,
                       r->bytes_read, r->size);
    else if (sb.st_mtim.tv_sec != r->mtime.tv_sec || sb.st_mtim.tv_nsec != r->mtime.tv_nsec)
        (void)snprintf(err, errlen, "input '%s' changed while it was read: it was modified",
                       r->path);
    else
        return 0;
    return EXIT_IOERR;
}

/* Refill the block when it is used up. 1 with bytes to read, 0 at the end, or EXIT_IOERR. */
static int fill_block(label_reader *r, char *err, size_t errlen) {
    if (r->blk_pos < r->blk_len) return 1;
    errno = 0;
    r->blk_len = fread(r->blk, 1, IN_BUFFER, r->file);
    r->blk_pos = 0;
    r->bytes_read += (long long)r->blk_len;
    if (r->blk_len > 0) return 1;
    if (ferror(r->file)) {
        (void)snprintf(err, errlen, "cannot read input '%s' after line %ld: %s", r->path, r->lineno,
                       strerror(errno ? errno : EIO));
        return EXIT_IOERR;
    }
    return check_unchanged(r, err, errlen);
}

/* The first \n or \r in p[0..n), or NULL. */
static char *line_end(char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n' || p[i] == '\r') return p + i;
    return NULL;
}

/* Append p[0..take) to r->line[0..len), growing it. 0, or EXIT_SOFTWARE with err set. */
static int append(label_reader *r, size_t len, const char *p, size_t take, char *err,
                  size_t errlen) {
    if (len + take + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        char *grown;
        while (cap < len + take + 1)
            cap *= 2;
        if ((grown = realloc(r->line, cap)) == NULL) {
            (void)snprintf(err, errlen, "input '%s' line %ld: out of memory", r->path,
                           r->lineno + 1);
            return EXIT_SOFTWARE;
        }
        r->line = grown;
        r->cap = cap;
    }
    memcpy(r->line + len, p, take);
    return 0;
}

/* Read the next line (through its \n, \r or \r\n's \r, or to the end) into r->line, in
 * blocks. Lines are cut at either ending here, so the length limit applies to each line of a
 * CR-only file, and errors name the real line. A line whose text is over LINE_MAX_BYTES is
 * refused: a file with no line breaks (/dev/zero) cannot eat all memory. 1, 0 at the end, or
 * an exit status with err set. */
static int read_raw_line(label_reader *r, char *err, size_t errlen) {
    size_t len = 0;
    int got;
    for (;;) {
        char *start, *end;
        size_t take;
        if ((got = fill_block(r, err, errlen)) != 1) {
            if (got != 0 || len == 0) return got;
            break; /* the last line has no line break */
        }
        start = r->blk + r->blk_pos;
        if (len == 0 && r->after_cr) { /* the \n of a \r\n cut at the \r */
            r->after_cr = 0;
            if (*start == '\n') {
                r->blk_pos++;
                continue;
            }
        }
        end = line_end(start, r->blk_len - r->blk_pos);
        take = end != NULL ? (size_t)(end - start) + 1 : r->blk_len - r->blk_pos;
        /* A line longer than a block: look for NUL bytes as it comes (labels_next checks the
         * rest), so a stream of zeros stops at once. */
        if (len > 0 && memchr(start, '\0', take) != NULL) {
            (void)snprintf(err, errlen, "input '%s' line %ld: contains a NUL byte", r->path,
                           r->lineno + 1);
            return EXIT_DATAERR;
        }
        if (len + take - (end != NULL) > LINE_MAX_BYTES) { /* the ending does not count */
            (void)snprintf(err, errlen, "input '%s' line %ld: longer than %d bytes", r->path,
                           r->lineno + 1, LINE_MAX_BYTES);
            return EXIT_DATAERR;
        }
        if ((got = append(r, len, start, take, err, errlen)) != 0) return got;
        len += take;
        r->blk_pos += take;
        if (end != NULL) {
            r->after_cr = *end == '\r';
            break;
        }
    }
    r->line[len] = '\0';
    r->fill = len;
    return 1;
}

/* The next line as Python's universal newlines see it: ending at \n, \r\n or a lone \r.
 * Returns 1 with *line and *len (without the ending), 0 at the end, or an exit status. */
static int next_line(label_reader *r, char **line, size_t *len, char *err, size_t errlen) {
    int got = read_raw_line(r, err, errlen);
    if (got != 1) return got;
    *len = r->fill;
    if (*len > 0 && (r->line[*len - 1] == '\n' || r->line[*len - 1] == '\r')) --*len;
    r->lineno++;
    *line = r->line;
    return 1;
}

int labels_next(label_reader *r, const char **label, size_t *len, char *err, size_t errlen) {
    for (;;) {
        char *line;
        size_t start = 0, end, bad;
        int got = next_line(r, &line, &end, err, errlen);

        if (got != 1) return got;
        if (memchr(line, '\0', end) != NULL) {
            (void)snprintf(err, errlen, "input '%s' line %ld: contains a NUL byte", r->path,
                           r->lineno);
            return EXIT_DATAERR;
        }
        /* A UTF-8 byte order mark at the very start is an encoding marker, not a label. */
        if (r->lineno == 1 && end >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) start = 3;
        if (!utf8_valid((const unsigned char *)line + start, end - start, &bad)) {
            (void)snprintf(err, errlen, "input '%s' line %ld: invalid UTF-8 at byte %zu", r->path,
                           r->lineno, start + bad + 1);
            return EXIT_DATAERR;
        }
        strip((const unsigned char *)line, &start, &end);
        if (start == end) continue;
        line[end] = '\0';
        *label = line + start;
        *len = end - start;
        return 1;
    }
}
