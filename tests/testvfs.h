/*
 * testvfs.h: the test VFS (testvfs.c), a shim over the default SQLite VFS that injects faults
 * on demand. Free of cmocka, so it also builds into the preloadable fault library
 * (faultvfs_preload.c) that `sqlpool run` is tested through.
 */
#ifndef SQLPOOL_TESTVFS_H
#define SQLPOOL_TESTVFS_H

/* Register the shim as "sqlpool-test" (not the default). Idempotent, thread-safe. */
void testvfs_register(void);
/* Register it and make it SQLite's default VFS. */
void testvfs_register_default(void);
/* The next n opens of a main database file fail with rc (e.g. SQLITE_BUSY, SQLITE_CANTOPEN). */
void testvfs_fail_opens(int n, int rc);
/* While on, every read of a main database file fails with SQLITE_IOERR_READ (and locks). */
void testvfs_fail_reads(int on);
/* The nth read, write or sync (counted from 1 across every file SQLite opens through the
 * shim: database, journal, WAL) fails with SQLITE_IOERR_READ / _WRITE / _FSYNC; 0: none. */
enum { TESTVFS_READ, TESTVFS_WRITE, TESTVFS_SYNC };
void testvfs_fail_nth(int kind, long n);
/* How many main-database opens were attempted since registration or the last reset. */
int testvfs_open_attempts(void);
void testvfs_reset(void);

#endif
