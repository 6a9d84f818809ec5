/* backend.c: which backend serves a db string, and what callers may ask about it. */
#include "pool_internal.h"
#include "dsn.h"

const sqlpool__backend *sqlpool__backend_for(const char *db) {
#ifdef SQLPOOL_HAVE_PG
    if (sqlpool__dsn_is_pg(db)) return &sqlpool__pg_backend;
#endif
    (void)db;
    return &sqlpool__sqlite_backend;
}

void sqlpool__backends_atfork(int phase) {
    const sqlpool__backend *all[] = {
        &sqlpool__sqlite_backend,
#ifdef SQLPOOL_HAVE_PG
        &sqlpool__pg_backend,
#endif
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const sqlpool__backend *b = all[phase == SQLPOOL__FORK_PREPARE ? i : n - 1 - i];
        if (b->atfork != NULL) b->atfork(phase);
    }
}

int sqlpool_has_postgresql(void) {
#ifdef SQLPOOL_HAVE_PG
    return 1;
#else
    return 0;
#endif
}

const char *sqlpool_backend(sqlpool *pool) {
    return pool != NULL ? pool->backend->name : "";
}

const char *sqlpool_db_backend(const char *db) {
    return db != NULL && sqlpool__dsn_is_pg(db) ? "postgresql" : "sqlite";
}

size_t sqlpool_db_mask(const char *db, char *out, size_t len) {
    return sqlpool__dsn_mask(db, out, len);
}

size_t sqlpool_text_mask(const char *text, char *out, size_t len) {
    return sqlpool__dsn_mask_text(text != NULL ? text : "", out, len);
}
