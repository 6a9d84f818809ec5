/* outfile.c: where the summary goes. Its folders, its temporary file (with the mode of the
 * file it replaces), links written through, devices written directly; then the rename into
 * place, or the clean-up that leaves the output path as it was. */
#define _XOPEN_SOURCE 700 /* realpath; NOLINT(bugprone-reserved-identifier): feature-test macro */

#include "summary.h"

#include "exitcodes.h"
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUFFER (1 << 20)

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(char *err, size_t errlen, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return status;
}

/* Remember a folder made for the output. */
static int note_made_dir(summary *s, const char *dir) {
    char **grown = realloc(s->made_dirs, (size_t)(s->n_made_dirs + 1) * sizeof *grown);
    if (grown == NULL) return -1;
    s->made_dirs = grown;
    if ((grown[s->n_made_dirs] = strdup(dir)) == NULL) return -1;
    s->n_made_dirs++;
    return 0;
}

/* mkdir of one folder of the output's path, noting it when made. */
static int make_one(summary *s, const char *dir, char *err, size_t errlen) {
    struct stat sb;
    if (mkdir(dir, 0777) == 0) {
        if (note_made_dir(s, dir) != 0) return fail(err, errlen, EXIT_SOFTWARE, "out of memory");
    } else if (errno != EEXIST) {
        return fail(err, errlen, EXIT_CANTCREAT, "cannot create output folder '%s': %s", dir,
                    strerror(errno));
    }
    if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return fail(err, errlen, EXIT_CANTCREAT,
                    "cannot create output folder '%s': a file is in the way", dir);
    return 0;
}

/* mkdir -p of the folder part of path, noting each folder it makes. */
static int make_parents(summary *s, const char *path, char *err, size_t errlen) {
    char *copy = strdup(path), *p;
    int rc = 0;
    if (copy == NULL) return fail(err, errlen, EXIT_SOFTWARE, "out of memory");
    for (p = copy + 1; rc == 0 && (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        rc = make_one(s, copy, err, errlen);
        *p = '/';
    }
    free(copy);
    return rc;
}

/* Give the temporary file the mode (and, as root, the owner) of the file it will replace,
 * or what a plain create would give. */
static void copy_mode(int fd, const char *path) {
    struct stat sb;
    mode_t mask;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (geteuid() == 0) (void)fchown(fd, sb.st_uid, sb.st_gid);
        (void)fchmod(fd, sb.st_mode & 07777);
        return;
    }
    mask = umask(0);
    (void)umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
}

/* ".NAME.XXXXXX" beside s->path, NAME cut so that the whole fits in NAME_MAX bytes (an
 * output name of up to NAME_MAX bytes must not fail for its temporary name's sake). */
static void temp_name(summary *s, size_t cap, char *dir, char *base) {
    int keep = (int)strlen(base);
    if (keep > NAME_MAX - 8) keep = NAME_MAX - 8;
    (void)snprintf(s->tmp_path, cap, "%s/.%.*s.XXXXXX", dirname(dir), keep, basename(base));
}

/* Open a temporary file beside s->path. */
static int open_temp(summary *s, char *err, size_t errlen) {
    size_t n = strlen(s->path);
    char *dir_copy = strdup(s->path), *base_copy = strdup(s->path);
    int fd;

    s->tmp_path = malloc(n + 16);
    if (s->tmp_path == NULL || dir_copy == NULL || base_copy == NULL) {
        free(dir_copy);
        free(base_copy);
        return fail(err, errlen, EXIT_SOFTWARE, "out of memory");
    }
    temp_name(s, n + 16, dir_copy, base_copy);
    free(dir_copy);
    free(base_copy);
    if ((fd = mkstemp(s->tmp_path)) < 0) {
        free(s->tmp_path);
        s->tmp_path = NULL;
        return fail(err, errlen, EXIT_CANTCREAT, "cannot create output '%s': %s", s->path,
                    strerror(errno));
    }
    copy_mode(fd, s->path);
    if ((s->file = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        (void)close(fd);
        return fail(err, errlen, EXIT_CANTCREAT, "cannot create output '%s': %s", s->path,
                    strerror(e));
    }
    return 0;
}

static int same_as_stdout(const struct stat *sb) {
    struct stat so;
    return fstat(STDOUT_FILENO, &so) == 0 && so.st_dev == sb->st_dev && so.st_ino == sb->st_ino;
}

/* Write straight to a device, FIFO or our own stdout: it cannot be replaced by rename. Our
 * stdout is written through a duplicate of fd 1, keeping its offset and append mode. */
static int open_direct(summary *s, int to_stdout, int quiet, char *err, size_t errlen) {
    s->direct = 1;
    s->tee = !quiet && !to_stdout;
    if (to_stdout) {
        int fd = dup(STDOUT_FILENO);
        if (fd >= 0 && (s->file = fdopen(fd, "wb")) == NULL) (void)close(fd);
    } else {
        s->file = fopen(s->path, "wb");
    }
    if (s->file == NULL)
        return fail(err, errlen, EXIT_CANTCREAT, "cannot create output '%s': %s", s->path,
                    strerror(errno));
    return 0;
}

/* An output that is a symbolic link is written through: to a regular target by replacing
 * the target (s->path becomes its real path); to anything else directly. */
static int resolve_link(summary *s, char *err, size_t errlen) {
    struct stat sb;
    char *real;
    if (lstat(s->path, &sb) != 0 || !S_ISLNK(sb.st_mode)) return 0;
    if (stat(s->path, &sb) != 0)
        return fail(err, errlen, EXIT_CANTCREAT,
                    "cannot create output '%s': it is a symbolic link to a missing target (%s)",
                    s->path, strerror(errno));
    if (!S_ISREG(sb.st_mode) || same_as_stdout(&sb)) return 0;
    if ((real = realpath(s->path, NULL)) == NULL)
        return fail(err, errlen, EXIT_CANTCREAT, "cannot resolve output link '%s': %s", s->path,
                    strerror(errno));
    free(s->path);
    s->path = real;
    return 0;
}

/* Make the folders and the temporary file with the signals held, so that nothing is made
 * untracked; but open a device or FIFO with them let in: opening a FIFO waits for its reader,
 * and a signal must end that wait (nothing is made by it; the folders are tracked by then). */
/* clang-analyzer, following summary_check_path's probe into here, takes summary_begin's
 * strdup of s->path for leaked: a false positive (summary_abort frees it on every path). */
// NOLINTBEGIN(clang-analyzer-unix.Malloc)
static int open_output(summary *s, int quiet, char *err, size_t errlen) {
    struct stat sb;
    int rc, to_stdout = 0, direct = 0;
    signals_hold(1);
    if ((rc = make_parents(s, s->path, err, errlen)) == 0) rc = resolve_link(s, err, errlen);
    if (rc == 0 && stat(s->path, &sb) == 0) {
        to_stdout = same_as_stdout(&sb);
        direct = !S_ISREG(sb.st_mode) || to_stdout;
    }
    if (rc == 0 && !direct) rc = open_temp(s, err, errlen);
    signals_track(s->tmp_path, s->made_dirs, s->n_made_dirs);
    signals_hold(0);
    if (rc == 0 && direct) rc = open_direct(s, to_stdout, quiet, err, errlen);
    return rc;
}
// NOLINTEND(clang-analyzer-unix.Malloc)

int summary_begin(summary *s, const char *path, int quiet, char *err, size_t errlen) {
    struct stat sb;
    int rc;

    memset(s, 0, sizeof *s);
    s->path = strdup(path);
    s->scratch = json_string("");
    if (s->path == NULL || s->scratch == NULL) {
        summary_abort(s);
        return fail(err, errlen, EXIT_SOFTWARE, "out of memory");
    }
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        summary_abort(s);
        return fail(err, errlen, EXIT_CANTCREAT, "cannot create output '%s': it is a folder", path);
    }
    if ((rc = open_output(s, quiet, err, errlen)) != 0) {
        summary_abort(s);
        return rc;
    }
    /* setvbuf with a NULL buffer keeps stdio's small default; give it a real one. */
    if ((s->iobuf = malloc(OUT_BUFFER)) != NULL)
        (void)setvbuf(s->file, s->iobuf, _IOFBF, OUT_BUFFER);
    return 0;
}

int summary_check_path(const char *path, char *err, size_t errlen) {
    summary probe;
    struct stat sb;
    int rc;
    /* A device or FIFO is opened only when written: opening a FIFO waits for its reader. */
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) return 0;
    if ((rc = summary_begin(&probe, path, 1, err, errlen)) == 0) summary_abort(&probe);
    return rc;
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

int summary_finish(summary *s, char *err, size_t errlen) {
    int e = 0, rc;
    if (s->file == NULL) return 0; /* finished already */
    if ((rc = summary_flush(s, err, errlen)) != 0) return rc;
    if (s->tmp_path && fsync(fileno(s->file)) != 0) e = errno;
    if (fclose(s->file) != 0 && !e) e = errno;
    s->file = NULL;
    if (e)
        return fail(err, errlen, EXIT_IOERR, "cannot write output '%s': %s", s->path, strerror(e));
    return 0;
}

/* The rename is the point of no return: the signals are held across it, and one caught
 * before it (signals_defer) fails the commit instead. A signal that arrives during the rename
 * is let in after it: the output is in place by then. */
int summary_commit(summary *s, char *err, size_t errlen) {
    int e = 0, rc = summary_finish(s, err, errlen);
    if (rc != 0) return rc;
    signals_hold(1);
    if (signals_caught())
        e = EINTR;
    else if (s->tmp_path && rename(s->tmp_path, s->path) != 0)
        e = errno;
    if (!e) signals_forget();
    signals_hold(0);
    if (e)
        return fail(err, errlen, EXIT_IOERR, "cannot write output '%s': %s", s->path, strerror(e));
    if (s->tmp_path) sync_parent(s->path);
    free(s->tmp_path);
    s->tmp_path = NULL;
    s->committed = 1;
    return 0;
}

void summary_abort(summary *s) {
    signals_forget();
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
    if ((f = fopen(s->tmp_path ? s->tmp_path : s->path, "rb")) == NULL)
        return fail(err, errlen, EXIT_IOERR, "cannot read back output '%s': %s", s->path,
                    strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, stdout) != n) break;
    (void)fclose(f);
    if (fflush(stdout) != 0 || ferror(stdout))
        return fail(err, errlen, EXIT_IOERR, "cannot write to standard output: %s",
                    strerror(errno));
    return 0;
}
