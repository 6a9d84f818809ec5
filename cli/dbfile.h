/* dbfile.h: the run's database as files: which file a --db string opens (a path or a
 * "file:" URI), and whether an output the CLI writes would overwrite it or its companions.
 * ":memory:", temporary and in-memory URI databases and PostgreSQL strings are no file here:
 * they never clash. */
#ifndef SQLPOOL_CLI_DBFILE_H
#define SQLPOOL_CLI_DBFILE_H

#include <stddef.h>

/* The file a SQLite --db string opens (caller frees), or NULL when it opens none (in memory,
 * temporary, PostgreSQL) or out of memory. A "file:" URI is read as SQLite reads it: its query
 * split on '&' before decoding, the last mode= and vfs= winning; only a sure in-memory one
 * (mode=memory, vfs=memdb) is no file. */
char *dbfile_path(const char *db);

/* 0, or EXIT_USAGE with a message when output (the value of flag, "--output" or "--plot")
 * is the database db or its -wal, -shm or -journal file, by device and inode (or, for files
 * not there yet, by their nearest existing folder and the names below it). Nothing is created
 * or opened. EXIT_SOFTWARE when out of memory. */
int dbfile_check_output(const char *db, const char *flag, const char *output, char *err,
                        size_t errlen);
/* 0, or EXIT_USAGE with a message when standard output (where run copies the summary unless
 * --quiet) is a regular file or disk that is the database db or one of its companions. */
int dbfile_check_stdout(const char *db, char *err, size_t errlen);
#endif
