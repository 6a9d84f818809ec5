/* summary.c: the atomic, streamed JSON summary file. */
#include "summary.h"

#include "exitcodes.h"
#include "jsonout.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUFFER (1 << 20)

/* Remember a folder made for the output. */
static int note_made_dir(summary *s, const char *dir) {
    char **grown = realloc(s->made_dirs, (size_t)(s->n_made_dirs + 1) * sizeof *grown);
    if (grown == NULL) return -1;
    s->made_dirs = grown;
    if ((grown[s->n_made_dirs] = strdup(dir)) == NULL) return -1;
    s->n_made_dirs++;
    return 0;
}

/* mkdir -p of the folder part of path, noting each folder it makes. */
static int make_parents(summary *s, const char *path, char *err, size_t errlen) {
    char *copy = strdup(path);
    char *p;
    if (copy == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        return EXIT_SOFTWARE;
    }
    for (p = copy + 1; (p = strchr(p, '/')) != NULL; p++) {
        struct stat sb;
        *p = '\0';
        if (mkdir(copy, 0777) == 0) {
            if (note_made_dir(s, copy) != 0) {
                (void)snprintf(err, errlen, "out of memory");
                free(copy);
                return EXIT_SOFTWARE;
            }
        } else if (errno != EEXIST) {
            (void)snprintf(err, errlen, "cannot create output folder '%s': %s", copy,
                           strerror(errno));
            free(copy);
            return EXIT_CANTCREAT;
        }
        if (stat(copy, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
            (void)snprintf(err, errlen, "cannot create output folder '%s': a file is in the way",
                           copy);
            free(copy);
            return EXIT_CANTCREAT;
        }
        *p = '/';
    }
    free(copy);
    return 0;
}

/* Open a temporary file beside path with the permissions a plain create would give. */
static int open_temp(summary *s, char *err, size_t errlen) {
    size_t n = strlen(s->path);
    char *dir_copy = strdup(s->path), *base_copy = strdup(s->path);
    mode_t mask;
    int fd = -1;

    s->tmp_path = malloc(n + 16);
    if (s->tmp_path == NULL || dir_copy == NULL || base_copy == NULL) {
        free(dir_copy);
        free(base_copy);
        (void)snprintf(err, errlen, "out of memory");
        return EXIT_SOFTWARE;
    }
    (void)snprintf(s->tmp_path, n + 16, "%s/.%s.XXXXXX", dirname(dir_copy), basename(base_copy));
    free(dir_copy);
    free(base_copy);
    fd = mkstemp(s->tmp_path);
    if (fd < 0) {
        (void)snprintf(err, errlen, "cannot create output '%s': %s", s->path, strerror(errno));
        return EXIT_CANTCREAT;
    }
    mask = umask(0);
    (void)umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    s->file = fdopen(fd, "wb");
    if (s->file == NULL) {
        (void)close(fd);
        (void)unlink(s->tmp_path);
        (void)snprintf(err, errlen, "cannot create output '%s': %s", s->path, strerror(errno));
        return EXIT_CANTCREAT;
    }
    return 0;
}

int summary_begin(summary *s, const char *path, char *err, size_t errlen) {
    struct stat sb;
    int rc;

    memset(s, 0, sizeof *s);
    s->path = strdup(path);
    s->scratch = json_string("");
    if (s->path == NULL || s->scratch == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        summary_abort(s);
        return EXIT_SOFTWARE;
    }
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        (void)snprintf(err, errlen, "cannot create output '%s': it is a folder", path);
        summary_abort(s);
        return EXIT_CANTCREAT;
    }
    if ((rc = make_parents(s, path, err, errlen)) != 0) {
        summary_abort(s);
        return rc;
    }
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* A device or FIFO cannot be replaced by rename: write to it directly. */
        s->direct = 1;
        s->file = fopen(path, "wb");
        if (s->file == NULL) {
            (void)snprintf(err, errlen, "cannot create output '%s': %s", path, strerror(errno));
            summary_abort(s);
            return EXIT_CANTCREAT;
        }
    } else if ((rc = open_temp(s, err, errlen)) != 0) {
        summary_abort(s);
        return rc;
    }
    /* setvbuf with a NULL buffer keeps stdio's small default; give it a real one. */
    if ((s->iobuf = malloc(OUT_BUFFER)) != NULL)
        (void)setvbuf(s->file, s->iobuf, _IOFBF, OUT_BUFFER);
    return 0;
}

static void put(summary *s, const char *text) {
    if (fputs(text, s->file) == EOF) s->failed = 1;
}

void summary_rows_begin(summary *s, long long rows_inserted) {
    if (fprintf(s->file, "{\n  \"rows_inserted\": %lld,\n  \"rows\": [", rows_inserted) < 0)
        s->failed = 1;
}

static void put_bytes(summary *s, const char *data, size_t len) {
    if (fwrite(data, 1, len, s->file) != len) s->failed = 1;
}

/* 1 when label's JSON form is the label between quotes: printable ASCII, no '"' or '\\'.
 * Such labels (nearly all) are copied as they are; every other one goes through jansson. */
static int needs_no_escaping(const char *label, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)label[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return 0;
    }
    return 1;
}

/* Decimal digits of v, written backwards from end; returns where they start. */
static char *format_id(char *end, long long v) {
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) *--end = '-';
    return end;
}

/* Append n bytes to the row being assembled in buf at *at. */
static void append(char *buf, size_t *at, const char *data, size_t n) {
    memcpy(buf + *at, data, n);
    *at += n;
}

int summary_row(summary *s, long long id, const char *label, size_t len) {
    static const char head[] = ",\n    {\n      \"id\": ";
    static const char middle[] = ",\n      \"label\": ";
    static const char tail[] = "\n    }";
    char row[512], digits[24], *d = format_id(digits + sizeof digits, id);
    const char *text = label;
    size_t at = 0, text_len = len;
    int quote = needs_no_escaping(label, len);

    if (!quote) {
        if (json_string_setn(s->scratch, label, len) != 0) return -1;
        if (jsonout_dump(s->scratch, JSON_ENCODE_ANY | JSON_ENSURE_ASCII, &s->text, &s->text_cap,
                         &text_len) != 0)
            return -1;
        text = s->text;
    }
    /* One write per row: stdio's per-call locking costs more than the copying. */
    append(row, &at, head + (s->rows ? 0 : 1), sizeof head - (s->rows ? 1 : 2));
    append(row, &at, d, (size_t)(digits + sizeof digits - d));
    append(row, &at, middle, sizeof middle - 1);
    if (at + text_len + 2 + sizeof tail <= sizeof row) {
        if (quote) row[at++] = '"';
        append(row, &at, text, text_len);
        if (quote) row[at++] = '"';
        append(row, &at, tail, sizeof tail - 1);
        put_bytes(s, row, at);
    } else {
        put_bytes(s, row, at);
        if (quote) put_bytes(s, "\"", 1);
        put_bytes(s, text, text_len);
        if (quote) put_bytes(s, "\"", 1);
        put_bytes(s, tail, sizeof tail - 1);
    }
    s->rows++;
    return 0;
}

void summary_rows_end(summary *s) {
    put(s, s->rows ? "\n  ],\n" : "],\n");
}

/* jansson's 2-space output, indented two more spaces: it nests one level down. */
static void put_indented(summary *s, const char *text, size_t len) {
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n') continue;
        put_bytes(s, text + from, i + 1 - from);
        put(s, "  ");
        from = i + 1;
    }
    put_bytes(s, text + from, len - from);
}

void summary_object(summary *s, const char *key, json_t *obj, int last) {
    size_t len;
    if (fprintf(s->file, "  \"%s\": ", key) < 0) s->failed = 1;
    if (jsonout_dump(obj, JSON_INDENT(2) | JSON_ENSURE_ASCII, &s->text, &s->text_cap, &len) != 0)
        s->failed = 1;
    else
        put_indented(s, s->text, len);
    put(s, last ? "\n}\n" : ",\n");
}

static void sync_parent(const char *path) {
    char *copy = strdup(path);
    int fd;
    if (copy == NULL) return;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        (void)close(fd);
    }
    free(copy);
}

int summary_commit(summary *s, char *err, size_t errlen) {
    int e = 0;
    if (fflush(s->file) != 0) e = errno;
    if (!e && s->failed) e = EIO;
    if (!e && s->tmp_path && fsync(fileno(s->file)) != 0) e = errno;
    if (fclose(s->file) != 0 && !e) e = errno;
    s->file = NULL;
    if (!e && s->tmp_path && rename(s->tmp_path, s->path) != 0) e = errno;
    if (e) {
        (void)snprintf(err, errlen, "cannot write output '%s': %s", s->path, strerror(e));
        return EXIT_IOERR;
    }
    if (s->tmp_path) sync_parent(s->path);
    free(s->tmp_path);
    s->tmp_path = NULL;
    s->committed = 1;
    return 0;
}

void summary_abort(summary *s) {
    if (s->file != NULL) (void)fclose(s->file);
    s->file = NULL;
    if (s->tmp_path != NULL) (void)unlink(s->tmp_path);
    free(s->tmp_path);
    s->tmp_path = NULL;
    /* Deepest first; a folder something else has written to since stays (rmdir fails). */
    for (int i = s->n_made_dirs - 1; i >= 0; i--) {
        if (!s->committed) (void)rmdir(s->made_dirs[i]);
        free(s->made_dirs[i]);
    }
    free(s->made_dirs);
    s->made_dirs = NULL;
    s->n_made_dirs = 0;
    free(s->iobuf);
    s->iobuf = NULL;
    free(s->text);
    s->text = NULL;
    free(s->path);
    s->path = NULL;
    json_decref(s->scratch);
    s->scratch = NULL;
}

int summary_print(const summary *s, char *err, size_t errlen) {
    char buf[1 << 16];
    size_t n;
    FILE *f;
    if (s->direct) return 0;
    f = fopen(s->path, "rb");
    if (f == NULL) {
        (void)snprintf(err, errlen, "cannot read back output '%s': %s", s->path, strerror(errno));
        return EXIT_IOERR;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, stdout) != n) break;
    (void)fclose(f);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        (void)snprintf(err, errlen, "cannot write to standard output: %s", strerror(errno));
        return EXIT_IOERR;
    }
    return 0;
}
