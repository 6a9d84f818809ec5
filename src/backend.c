/* backend.c: which backend serves a db string. */
#include "backend.h"
#include "dsn.h"

const sqlpool__backend *sqlpool__backend_for(const char *db) {
#ifdef SQLPOOL_HAVE_PG
    if (sqlpool__dsn_is_pg(db)) return &sqlpool__pg_backend;
#endif
    (void)db;
    return &sqlpool__sqlite_backend;
}
