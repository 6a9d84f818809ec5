/*
 * old_sqlite_shim.c: a library to LD_PRELOAD into the CLI (test_cli) that makes the SQLite it
 * runs on look like 3.34, the oldest the library supports: sqlite3_libversion_number() says
 * 3034000, and a statement naming pragma_table_list (3.37) fails to prepare, as it does there
 * ("no such table"). Everything else is the real SQLite.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <sqlite3.h>
#include <string.h>

/* Exported, though the project builds with hidden visibility: they must interpose SQLite's. */
#define SHIM_EXPORT __attribute__((visibility("default")))
SHIM_EXPORT int sqlite3_libversion_number(void);
SHIM_EXPORT int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st,
                                   const char **tail);

int sqlite3_libversion_number(void) {
    return 3034000;
}

int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st, const char **tail) {
    int (*real)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **) =
        (int (*)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **))dlsym(
            RTLD_NEXT, "sqlite3_prepare_v2");
    if (sql != NULL && strstr(sql, "pragma_table_list") != NULL)
        return real(db, "SELECT * FROM no_such_table_pragma_table_list", -1, st, tail);
    return real(db, sql, n, st, tail);
}
