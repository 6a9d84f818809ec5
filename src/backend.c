/* backend.c: which backend serves a db string. */
#include "backend.h"

const sqlpool__backend *sqlpool__backend_for(const char *db) {
    (void)db; /* every db string is SQLite until another backend is built in */
    return &sqlpool__sqlite_backend;
}
