/*
 * sqlite_txn.h: the SQLite backend's transaction statements (backend.h: txn), for
 * sqlpool_write(), sqlpool_read() and config.group_commit's savepoints. Below
 * backend_sqlite.c; calls SQLite, the statement cache and sqlite_lane.c.
 */
#ifndef SQLPOOL_SQLITE_TXN_H
#define SQLPOOL_SQLITE_TXN_H

#include "stmt_cache.h"

#include <sqlite3.h>
#include <stddef.h>

/* As backend.h's txn, on db and its statement cache. */
int sqlpool__sqlite_txn(sqlite3 *db, sqlpool__stmt_cache *cache, int what, char *err,
                        size_t errlen);

#endif
