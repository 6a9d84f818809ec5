/* dbfile.c: keeping the output off the database, and a failed run's new database away. */
#include "dbfile.h"

#include "exitcodes.h"
#include "paths.h"
#include "sqlpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
#define NSUFFIXES (sizeof suffixes / sizeof suffixes[0])

static int is_plain_path(const char *db) {
    return strcmp(db, ":memory:") != 0 && strncmp(db, "file:", 5) != 0 &&
           strcmp(sqlpool_db_backend(db), "sqlite") == 0;
}

/* db with suffix (caller frees), or NULL when out of memory. */
static char *with_suffix(const char *db, const char *suffix) {
    size_t n = strlen(db) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p != NULL) (void)snprintf(p, n, "%s%s", db, suffix);
    return p;
}

int dbfile_check_output(const char *db, const char *output, char *err, size_t errlen) {
    if (!is_plain_path(db)) return 0;
    for (size_t i = 0; i < NSUFFIXES; i++) {
        char *file = with_suffix(db, suffixes[i]);
        int same = file != NULL && paths_same_file(output, file);
        if (same)
            (void)snprintf(err, errlen,
                           "--output '%s' is the database%s%s '%s': refusing to "
                           "overwrite it",
                           output, i ? "'s " : "", suffixes[i], file);
        free(file);
        if (same) return EXIT_USAGE;
    }
    return 0;
}
