/* dbfile.c: keeping every output the CLI writes off the database's files. */
#define _XOPEN_SOURCE 700 /* realpath, strndup; NOLINT(bugprone-reserved-identifier) */

#include "dbfile.h"

#include "exitcodes.h"
#include "paths.h"
#include "sqlpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
#define NSUFFIXES (sizeof suffixes / sizeof suffixes[0])

static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* %HH escapes decoded in place, as SQLite decodes a URI's path and query. */
static void percent_decode(char *s) {
    char *to = s;
    for (; *s != '\0'; s++) {
        if (s[0] == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
            *to++ = (char)(hex(s[1]) * 16 + hex(s[2]));
            s += 2;
        } else {
            *to++ = *s;
        }
    }
    *to = '\0';
}

/* 1 when a URI's query (decoded, '&'-separated) makes the database live in memory. */
static int memory_query(char *query) {
    for (char *kv = strtok(query, "&"); kv != NULL; kv = strtok(NULL, "&"))
        if (strcmp(kv, "mode=memory") == 0 || strcmp(kv, "vfs=memdb") == 0) return 1;
    return 0;
}

/* The path of a "file:" URI, by SQLite's rules (an authority must be empty or "localhost";
 * the path ends at '?' or '#'), or NULL when it names no file. */
static char *uri_path(const char *uri) {
    const char *p = uri + 5, *end;
    char *path, *query = NULL;
    if (strncmp(p, "//", 2) == 0) {
        const char *auth = p + 2;
        size_t alen = strcspn(auth, "/?#");
        if (alen != 0 && !(alen == 9 && strncmp(auth, "localhost", 9) == 0)) return NULL;
        p = auth + alen;
    }
    end = p + strcspn(p, "?#");
    if ((path = strndup(p, (size_t)(end - p))) == NULL) return NULL;
    if (*end == '?' && (query = strndup(end + 1, strcspn(end + 1, "#"))) == NULL) {
        free(path);
        return NULL;
    }
    percent_decode(path);
    if (query != NULL) percent_decode(query);
    if (path[0] == '\0' || strcmp(path, ":memory:") == 0 || (query && memory_query(query))) {
        free(path);
        path = NULL;
    }
    free(query);
    return path;
}

/* The file a SQLite --db string opens (caller frees), or NULL when it opens none. */
static char *db_path(const char *db) {
    if (strcmp(sqlpool_db_backend(db), "sqlite") != 0) return NULL;
    if (strncmp(db, "file:", 5) == 0) return uri_path(db);
    if (db[0] == '\0' || strcmp(db, ":memory:") == 0) return NULL;
    return strdup(db);
}

/* 1 when out is file+suffix; the message then in err. */
static int clashes(const paths_id *out, const char *file, size_t i, const char *flag,
                   const char *output, char *err, size_t errlen) {
    size_t n = strlen(file) + strlen(suffixes[i]) + 1;
    char *name = malloc(n);
    paths_id id;
    int same = 0;
    if (name == NULL) return 0;
    (void)snprintf(name, n, "%s%s", file, suffixes[i]);
    if (paths_identify(name, &id) == 0) {
        same = paths_same(out, &id);
        paths_id_free(&id);
    }
    if (same)
        (void)snprintf(err, errlen, "%s '%s' is the database%s%s '%s': refusing to overwrite it",
                       flag, output, i ? "'s " : "", suffixes[i], name);
    free(name);
    return same;
}

int dbfile_check_output(const char *db, const char *flag, const char *output, char *err,
                        size_t errlen) {
    char *files[2] = {db_path(db), NULL};
    paths_id out;
    int status = 0;
    if (files[0] == NULL) return 0;
    /* SQLite names the -wal, -shm and -journal after the link's target when db is a link. */
    files[1] = realpath(files[0], NULL);
    if (paths_identify(output, &out) != 0) {
        (void)snprintf(err, errlen, "out of memory");
        status = EXIT_SOFTWARE;
    }
    for (size_t f = 0; status == 0 && f < 2 && files[f] != NULL; f++)
        for (size_t i = 0; status == 0 && i < NSUFFIXES; i++)
            if (clashes(&out, files[f], i, flag, output, err, errlen)) status = EXIT_USAGE;
    if (out.rest != NULL) paths_id_free(&out);
    free(files[0]);
    free(files[1]);
    return status;
}
