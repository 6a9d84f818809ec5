/* health_files.c: what `sqlpool health` must find and leave as it was (see health_files.h). */
#define _XOPEN_SOURCE 700 /* realpath, lstat; NOLINT(bugprone-reserved-identifier) */
#include "health_files.h"

#include "dbfile.h"

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

/* The file db opens, read as dbfile.c reads it (a file: URI as SQLite does), into buf. */
static int sqlite_path(const char *db, char *buf, size_t len) {
    char *path = dbfile_path(db);
    int status = -1;
    if (path != NULL && strlen(path) < len) {
        memcpy(buf, path, strlen(path) + 1);
        status = 0;
    }
    free(path);
    return status;
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
