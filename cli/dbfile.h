/* dbfile.h: the run's database file as a file: whether the output would overwrite it.
 * ":memory:", "file:" URIs and PostgreSQL strings are not files here: they never clash. */
#ifndef SQLPOOL_CLI_DBFILE_H
#define SQLPOOL_CLI_DBFILE_H

#include <stddef.h>

/* 0, or EXIT_USAGE with a message when output names db or its -wal, -shm or -journal. */
int dbfile_check_output(const char *db, const char *output, char *err, size_t errlen);
#endif
