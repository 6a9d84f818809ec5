/* common.c: what the adapters share: opening SQLite the same way, and SELECT 1 uncached. */
#include "adapter.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

void bench_die(const char *what, const char *detail) {
    (void)fprintf(stderr, "bench_pools: %s: %s\n", what, detail != NULL ? detail : "");
    exit(1);
}

sqlite3 *bench_sqlite_open(const char *path) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) bench_die("sqlite3_open_v2", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    (void)sqlite3_busy_timeout(db, 5000);
    return db;
}

int bench_sqlite_select1_once(sqlite3 *db) {
    sqlite3_stmt *stmt = NULL;
    int ok = sqlite3_prepare_v2(db, "SELECT 1", -1, &stmt, NULL) == SQLITE_OK &&
             sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1;
    (void)sqlite3_finalize(stmt);
    return ok;
}
