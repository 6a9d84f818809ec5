/*
 * sqlite_lane.h: what the SQLite backend (backend_sqlite.c) sets up on each connection for a
 * lane of a single_writer pool and for the WAL bound (config.wal_limit): the readers'
 * query_only and write-refusing authorizer, the writer's check that the database is in WAL
 * mode, and the WAL hook that checkpoints a WAL grown past the limit. Below
 * backend_sqlite.c; calls only SQLite.
 */
#ifndef SQLPOOL_SQLITE_LANE_H
#define SQLPOOL_SQLITE_LANE_H

#include "sqlpool.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdatomic.h>

/* Per pool (one per backend state), shared by the pool's connections. Set once before the
 * first connect, then read-only, except the atomic counters. */
typedef struct sqlpool__sqlite_wal {
    long long limit; /* config.wal_limit in bytes; 0: SQLite's own checkpoints only */
    int lane;        /* SQLPOOL__LANE_* (backend.h): which connections these are */
    /* Atomic (relaxed): counters for the stats, and the size a WAL must pass before the next
     * TRUNCATE checkpoint (raised after one that could not finish). */
    atomic_llong checkpoints, checkpoints_busy, peak, retry_above;
} sqlpool__sqlite_wal;

/* Per connection: the WAL hook's context. */
typedef struct sqlpool__sqlite_hook {
    sqlpool__sqlite_wal *wal;
    int page_size; /* the database's, read at the first commit (0 until then) */
} sqlpool__sqlite_hook;

void sqlpool__sqlite_wal_init(sqlpool__sqlite_wal *wal, long long limit);

/* A statement of db's still running (stepped, not reset or finalized). */
int sqlpool__sqlite_statement_running(sqlite3 *db);

/* On a connection just opened in WAL mode (file databases; h lives as long as db): the
 * lane's settings and the WAL hook. SQLite's result code (the message in
 * sqlite3_errmsg(db)); SQLITE_CANTOPEN with *why set when a lane's database is not in WAL
 * mode. */
int sqlpool__sqlite_lane_setup(sqlite3 *db, sqlpool__sqlite_hook *h, sqlpool__sqlite_wal *wal,
                               const char **why);

/* A prepare that failed on a reader because the statement writes (wal: NULL on an in-memory
 * database's connection, which has no lane). */
int sqlpool__sqlite_denied_write(sqlite3 *db, int rc, const sqlpool__sqlite_wal *wal);

/* SQLPOOL_OK when a pool of this database (path as given to sqlite3_open_v2) can have lanes;
 * else SQLPOOL_EINVAL with err: in memory, or opened read-only. */
int sqlpool__sqlite_lane_check(const char *path, int memory, int readonly, char *err,
                               size_t errlen);

/* stats.checkpoints, checkpoints_busy and wal_peak. */
void sqlpool__sqlite_wal_stats(const sqlpool__sqlite_wal *wal, sqlpool_stats *out);

#endif
