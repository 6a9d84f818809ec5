/* labels.h: the demo's input: one label per line, stripped, blank lines skipped, read as a
 * stream so memory does not grow with the file. */
#ifndef SQLPOOL_CLI_LABELS_H
#define SQLPOOL_CLI_LABELS_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

typedef struct label_reader {
    FILE *file;
    char *blk; /* a block read from the file, and how much of it is used */
    size_t blk_pos, blk_len;
    const char *path;
    char *line;
    size_t cap;
    size_t fill;  /* line[0..fill): the line last read, with its ending */
    int after_cr; /* that line ended in \r: a \n right after it belongs to it */
    long lineno;  /* 1-based number of the line last read */
    /* A regular file's size and modification time when opened, and the bytes read since:
     * at the end they must still agree, or the file changed while it was read. The size only
     * counts where it is the content's length (sized), not on /proc or /sys. */
    int regular, sized;
    long long size, bytes_read;
    struct timespec mtime;
} label_reader;

/* Open path for reading. Returns 0, or EXIT_NOINPUT with a message (missing, unreadable, a
 * folder). */
int labels_open(label_reader *r, const char *path, char *err, size_t errlen);

/* The next non-blank label (a line of more than 64 MiB, not counting its ending, is refused as
 * bad data), stripped of surrounding white space as Python's str.strip() does (ASCII and
 * Unicode). Lines end at \n, \r\n or a lone \r, as in Python's text mode. Returns 1 and sets *label
 * and *len (valid until the next call), 0 at the end, or EXIT_DATAERR (invalid UTF-8, a NUL byte;
 * the message names the line) or EXIT_IOERR with a message (a read error, or a regular file whose
 * size or modification time at the end differs from when it was opened, or that gave more or fewer
 * bytes than its size: it changed while it was read, so what was read is no one version of it). */
int labels_next(label_reader *r, const char **label, size_t *len, char *err, size_t errlen);

/* The 1-based number of the line the last label (or error) came from: for messages about a
 * label that the database refuses. */
long labels_line(const label_reader *r);

void labels_close(label_reader *r);

/* 1 when buf[0..len) is well-formed UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF); otherwise 0 and *bad_offset is the first bad byte's offset. */
int utf8_valid(const unsigned char *buf, size_t len, size_t *bad_offset);

#endif
