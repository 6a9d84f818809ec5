/* health_files.h: the files of the SQLite database `sqlpool health` checks, as it finds and
 * leaves them: a check refuses what is not a regular file (a FIFO would block its open, a
 * device reads as an empty database) and removes the -wal and -shm files its read-only
 * connection created, the way SQLite's last connection to a WAL database does. */
#ifndef SQLPOOL_CLI_HEALTH_FILES_H
#define SQLPOOL_CLI_HEALTH_FILES_H

#include <stddef.h>

typedef struct health_files {
    char path[4096]; /* the database file; "" when db names none (memory, PostgreSQL) */
    int had_wal;     /* path-wal existed before the check */
    int had_shm;     /* path-shm existed before the check */
} health_files;

/* Before the check: find db's file and note its companions. 0, or 1 with a message in err
 * when the file exists but is not a regular file (the check is then unhealthy). */
int health_files_before(const char *db, health_files *f, char *err, size_t errlen);

/* After every connection is closed: remove the -wal and -shm the check created, but only
 * while no other connection has the database open and only a -wal without frames. */
void health_files_after(const health_files *f);

#endif
