/* dbfile.h: the run's database file as a file: whether the output would overwrite it, and
 * removing one the run created when the run fails. ":memory:" and "file:" URIs are not
 * files here: they never clash and are never removed. */
#ifndef SQLPOOL_CLI_DBFILE_H
#define SQLPOOL_CLI_DBFILE_H

#include <stddef.h>

/* 0, or EXIT_USAGE with a message when output names db or its -wal, -shm or -journal. */
int dbfile_check_output(const char *db, const char *output, char *err, size_t errlen);
/* 1 when db is a file that exists now (or is not a plain file path), else 0. */
int dbfile_exists(const char *db);
/* Remove db and its -wal, -shm and -journal files. */
void dbfile_remove(const char *db);

#endif
