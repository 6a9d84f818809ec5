/*
 * sqlite_txn.c: the SQLite backend's transaction statements (see sqlite_txn.h). Write
 * transactions begin IMMEDIATE: the write lock is taken at BEGIN, where the busy timeout
 * waits for another process's writer, never in the middle. config.group_commit's parts are
 * savepoints inside such a transaction, named sqlpool__group (a fn's own savepoints nest
 * inside it).
 */
#include "sqlite_txn.h"
#include "backend.h"
#include "internal.h"
#include "sqlite_lane.h"

/* Reset every statement of db that is running: at the end of a part of a shared transaction,
 * what fn left (its fn is over, and release would reset them), so that none holds the
 * COMMIT up. */
static void reset_running(sqlite3 *db) {
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st != NULL; st = sqlite3_next_stmt(db, st))
        if (sqlite3_stmt_busy(st)) (void)sqlite3_reset(st);
}

int sqlpool__sqlite_txn(sqlite3 *db, sqlpool__stmt_cache *cache, int what, char *err,
                        size_t errlen) {
    static const char *const sql[] = {"BEGIN IMMEDIATE",
                                      "BEGIN",
                                      "COMMIT",
                                      "ROLLBACK",
                                      NULL, /* SQLPOOL__TXN_OPEN: a question */
                                      "SAVEPOINT sqlpool__group",
                                      "RELEASE sqlpool__group",
                                      "ROLLBACK TO sqlpool__group; RELEASE sqlpool__group"};
    int rc, part = what == SQLPOOL__TXN_RELEASE || what == SQLPOOL__TXN_UNDO;
    if (what == SQLPOOL__TXN_OPEN) return sqlite3_get_autocommit(db) ? SQLPOOL_EMISUSE : SQLPOOL_OK;
    if (what == SQLPOOL__TXN_ROLLBACK && sqlite3_get_autocommit(db)) return SQLPOOL_OK;
    /* The cached statements fn stepped and left (an INSERT ... RETURNING read once, a SELECT
     * on its first row) would fail the COMMIT, or hold a read past it that keeps the WAL
     * from being checkpointed: reset, as release would. */
    if (what == SQLPOOL__TXN_COMMIT || part) sqlpool__stmt_cache_release(cache);
    if (part) reset_running(db);
    if ((rc = sqlite3_exec(db, sql[what], NULL, NULL, NULL)) == SQLITE_OK) return SQLPOOL_OK;
    if (what == SQLPOOL__TXN_COMMIT && (rc & 0xff) == SQLITE_BUSY &&
        sqlpool__sqlite_statement_running(db)) {
        sqlpool__format(err, errlen,
                        "COMMIT: a statement fn prepared on the native handle is still running "
                        "(reset or finalize it in fn)");
        return SQLPOOL_EMISUSE;
    }
    sqlpool__format(err, errlen, "%s: %s", sql[what], sqlite3_errmsg(db));
    return (rc & 0xff) == SQLITE_BUSY    ? SQLPOOL_EBUSY
           : (rc & 0xff) == SQLITE_NOMEM ? SQLPOOL_ENOMEM
                                         : SQLPOOL_EBROKEN;
}
