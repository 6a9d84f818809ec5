/* health_files.c: what `sqlpool health` must find and leave as it was (see health_files.h). */
#define _XOPEN_SOURCE 700 /* realpath, lstat; NOLINT(bugprone-reserved-identifier) */
#include "health_files.h"

#include "sqlpool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite's lock bytes in the database file (os.h): PENDING_BYTE, then the RESERVED byte and
 * the 510 SHARED bytes. A write lock on all of them is SQLite's EXCLUSIVE lock. */
#define SQLITE_PENDING_BYTE 0x40000000L
#define SQLITE_LOCK_SPAN 512

static int hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The path of a file: URI (RFC 8089 as SQLite reads it: an empty or "localhost" authority),
 * percent-decoded, up to the query. 0 or -1. */
static int uri_path(const char *uri, char *buf, size_t len) {
    const char *p = uri + 5, *q = strpbrk(p, "?#");
    size_t n = 0;
    if (q != NULL && q[0] == '?' && strstr(q, "mode=memory") != NULL) return -1;
    if (strncmp(p, "//", 2) == 0) {
        p += 2;
        if (strncmp(p, "localhost", 9) == 0) p += 9;
        if (*p != '/') return -1; /* another host: SQLite refuses it too */
    }
    for (; *p != '\0' && *p != '?' && *p != '#'; p++) {
        int c = (unsigned char)*p;
        if (c == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
            c = hex(p[1]) * 16 + hex(p[2]);
            p += 2;
        }
        if (n + 1 >= len || c == 0) return -1;
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

static int sqlite_path(const char *db, char *buf, size_t len) {
    if (strcmp(sqlpool_db_backend(db), "sqlite") != 0 || strcmp(db, ":memory:") == 0) return -1;
    if (strncmp(db, "file:", 5) == 0) return uri_path(db, buf, len);
    if (db[0] == '\0' || strlen(db) >= len) return -1;
    memcpy(buf, db, strlen(db) + 1);
    return 0;
}

static int exists(const char *path, const char *suffix) {
    char name[4200];
    struct stat sb;
    (void)snprintf(name, sizeof name, "%s%s", path, suffix);
    return lstat(name, &sb) == 0;
}

static const char *kind(mode_t mode) {
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

int health_files_before(const char *db, health_files *f, char *err, size_t errlen) {
    char named[sizeof f->path], *real;
    struct stat sb;
    memset(f, 0, sizeof *f);
    /* A folder and a missing file are left to the open, which names them (unreachable). */
    if (sqlite_path(db, named, sizeof named) != 0 || stat(named, &sb) != 0 || S_ISDIR(sb.st_mode))
        return 0;
    if (!S_ISREG(sb.st_mode)) {
        (void)snprintf(err, errlen, "'%s' is not a database file: it is %s", named,
                       kind(sb.st_mode));
        return 1;
    }
    /* SQLite puts the -wal and -shm beside the file a symbolic link leads to. */
    if ((real = realpath(named, NULL)) == NULL) return 0;
    if (strlen(real) < sizeof f->path) memcpy(f->path, real, strlen(real) + 1);
    free(real);
    if (f->path[0] == '\0') return 0;
    f->had_wal = exists(f->path, "-wal");
    f->had_shm = exists(f->path, "-shm");
    return 0;
}

/* Remove path+suffix when it is a regular file of at most max_size bytes (-1: any size). */
static void remove_companion(const char *path, const char *suffix, off_t max_size) {
    char name[4200];
    struct stat sb;
    (void)snprintf(name, sizeof name, "%s%s", path, suffix);
    if (lstat(name, &sb) == 0 && S_ISREG(sb.st_mode) && (max_size < 0 || sb.st_size <= max_size))
        (void)unlink(name);
}

void health_files_after(const health_files *f) {
    struct flock lk;
    int fd, new_wal, new_shm;
    if (f->path[0] == '\0') return;
    new_wal = !f->had_wal && exists(f->path, "-wal");
    new_shm = !f->had_shm && exists(f->path, "-shm");
    if (!new_wal && !new_shm) return;
    /* SQLite's own rule for deleting a WAL on close: only with the EXCLUSIVE lock, which no
     * one can hold while another connection (which keeps a SHARED lock) has it open. And
     * while it is held, no connection can start to use the -wal and -shm. */
    if ((fd = open(f->path, O_RDWR | O_CLOEXEC)) < 0) return;
    memset(&lk, 0, sizeof lk);
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    lk.l_start = SQLITE_PENDING_BYTE;
    lk.l_len = SQLITE_LOCK_SPAN;
    if (fcntl(fd, F_SETLK, &lk) == 0) {
        /* The check only read: a -wal it created has no frames (an empty file). */
        /* The -shm only indexes the -wal: with no connection open, SQLite rebuilds it. */
        if (new_shm) remove_companion(f->path, "-shm", -1);
        if (new_wal) remove_companion(f->path, "-wal", 0);
    }
    (void)close(fd); /* releases the lock */
}
