/* dbfile.c: keeping every output the CLI writes off the database's files. */
#define _XOPEN_SOURCE 700 /* realpath, readlink, lstat; NOLINT(bugprone-reserved-identifier) */

#include "dbfile.h"

#include "exitcodes.h"
#include "paths.h"
#include "sqlpool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
#define NSUFFIXES (sizeof suffixes / sizeof suffixes[0])

static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A "file:" URI as SQLite's sqlite3ParseUri reads it, into "path\0key\0value\0...\0\0"
 * (caller frees), or NULL when SQLite refuses it (a host other than "localhost") or out of
 * memory. The path ends at '?' and everything at '#'; the query splits on '&' and '=' before
 * any %HH is decoded, so a %26 or %3D stays inside its key or value; a %00 cuts its component
 * short; an option with an empty name is dropped. */
static char *uri_parse(const char *uri) {
    size_t in = 5, out = 0;
    int state = 0; /* 0: the path, 1: a key, 2: a value */
    char *buf = malloc(strlen(uri) + 8), c;
    if (buf == NULL) return NULL;
    if (uri[5] == '/' && uri[6] == '/') {
        for (in = 7; uri[in] != '\0' && uri[in] != '/'; in++)
            ;
        if (in != 7 && !(in == 16 && memcmp(uri + 7, "localhost", 9) == 0)) {
            free(buf);
            return NULL;
        }
    }
    while ((c = uri[in]) != '\0' && c != '#') {
        in++;
        if (c == '%' && hex(uri[in]) >= 0 && hex(uri[in + 1]) >= 0) {
            c = (char)(hex(uri[in]) * 16 + hex(uri[in + 1]));
            in += 2;
            if (c == '\0') { /* skip the rest of this component */
                while ((c = uri[in]) != '\0' && c != '#' && (state != 0 || c != '?') &&
                       (state != 1 || (c != '=' && c != '&')) && (state != 2 || c != '&'))
                    in++;
                continue;
            }
        } else if (state == 1 && (c == '&' || c == '=')) {
            if (buf[out - 1] == '\0') { /* an empty key: the option is ignored */
                while (uri[in] != '\0' && uri[in] != '#' && uri[in - 1] != '&')
                    in++;
                continue;
            }
            if (c == '&')
                buf[out++] = '\0'; /* a key without '=': an empty value */
            else
                state = 2;
            c = '\0';
        } else if ((state == 0 && c == '?') || (state == 2 && c == '&')) {
            c = '\0';
            state = 1;
        }
        buf[out++] = c;
    }
    if (state == 1) buf[out++] = '\0';
    memset(buf + out, 0, 4);
    return buf;
}

/* 1 when a parsed URI's options (the last mode= and the last vfs= win, as in SQLite) put the
 * database in memory for sure; anything else, even an option SQLite would refuse, is a file. */
static int uri_in_memory(const char *parsed) {
    const char *mode = NULL, *vfs = NULL;
    for (const char *key = parsed + strlen(parsed) + 1; *key != '\0';) {
        const char *value = key + strlen(key) + 1;
        if (strcmp(key, "mode") == 0) mode = value;
        if (strcmp(key, "vfs") == 0) vfs = value;
        key = value + strlen(value) + 1;
    }
    return (mode != NULL && strcmp(mode, "memory") == 0) ||
           (vfs != NULL && strcmp(vfs, "memdb") == 0);
}

/* The path of a "file:" URI, or NULL when it names no file. */
static char *uri_path(const char *uri) {
    char *parsed = uri_parse(uri), *path = NULL;
    if (parsed == NULL) return NULL;
    if (parsed[0] != '\0' && strcmp(parsed, ":memory:") != 0 && !uri_in_memory(parsed))
        path = strdup(parsed);
    free(parsed);
    return path;
}

char *dbfile_path(const char *db) {
    if (strcmp(sqlpool_db_backend(db), "sqlite") != 0) return NULL;
    if (strncmp(db, "file:", 5) == 0) return uri_path(db);
    if (db[0] == '\0' || strcmp(db, ":memory:") == 0) return NULL;
    return strdup(db);
}

/* Where path leads when it is a symbolic link, even to a file not there yet (SQLite follows
 * the link and creates its target): each link read and taken relative to its own folder, at
 * most 40 deep (the kernel's limit). NULL when path is no link (or out of memory). */
static char *link_target(const char *path) {
    char *cur = NULL, target[PATH_MAX];
    struct stat sb;
    for (int depth = 0; depth < 40; depth++) {
        const char *at = cur ? cur : path, *slash;
        ssize_t n;
        size_t dir;
        char *next;
        if (lstat(at, &sb) != 0 || !S_ISLNK(sb.st_mode)) break;
        if ((n = readlink(at, target, sizeof target - 1)) <= 0) break;
        target[n] = '\0';
        slash = strrchr(at, '/');
        dir = target[0] == '/' || slash == NULL ? 0 : (size_t)(slash - at) + 1;
        if ((next = malloc(dir + (size_t)n + 1)) == NULL) break;
        memcpy(next, at, dir);
        memcpy(next + dir, target, (size_t)n + 1);
        free(cur);
        cur = next;
    }
    return cur;
}

/* 1 when out is file+suffix, the name then in *name (caller frees). */
static int is_file(const paths_id *out, const char *file, const char *suffix, char **name) {
    size_t n = strlen(file) + strlen(suffix) + 1;
    paths_id id;
    int same = 0;
    if ((*name = malloc(n)) == NULL) return 0;
    (void)snprintf(*name, n, "%s%s", file, suffix);
    if (paths_identify(*name, &id) == 0) {
        same = paths_same(out, &id);
        paths_id_free(&id);
    }
    if (!same) {
        free(*name);
        *name = NULL;
    }
    return same;
}

#define NFILES 3

/* The database's file or companion that out is (caller frees; its suffix's index in *suffix),
 * or NULL. The database is looked for under each name SQLite may use: as given, the target of
 * a link (even one not made yet), and the resolved path, which names the -wal, -shm and
 * -journal when db is a link. */
static char *find_clash(const char *db, const paths_id *out, size_t *suffix) {
    char *files[NFILES] = {dbfile_path(db), NULL, NULL}, *hit = NULL;
    if (files[0] == NULL) return NULL;
    files[1] = link_target(files[0]);
    files[2] = realpath(files[0], NULL);
    for (size_t f = 0; f < NFILES; f++)
        for (size_t i = 0; files[f] != NULL && hit == NULL && i < NSUFFIXES; i++)
            if (is_file(out, files[f], suffixes[i], &hit)) *suffix = i;
    for (size_t f = 0; f < NFILES; f++)
        free(files[f]);
    return hit;
}

int dbfile_check_output(const char *db, const char *flag, const char *output, char *err,
                        size_t errlen) {
    paths_id out;
    size_t i = 0;
    char *hit;
    if (paths_identify(output, &out) != 0) {
        (void)snprintf(err, errlen, "out of memory");
        return EXIT_SOFTWARE;
    }
    hit = find_clash(db, &out, &i);
    paths_id_free(&out);
    if (hit == NULL) return 0;
    (void)snprintf(err, errlen, "%s '%s' is the database%s%s '%s': refusing to overwrite it", flag,
                   output, i ? "'s " : "", suffixes[i], hit);
    free(hit);
    return EXIT_USAGE;
}

int dbfile_check_stdout(const char *db, char *err, size_t errlen) {
    struct stat sb;
    char empty[1] = "";
    paths_id out = {0, 0, empty};
    size_t i = 0;
    char *hit;
    /* Only a file or a disk can hold the database: a terminal, pipe or /dev/null cannot. */
    if (fstat(STDOUT_FILENO, &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode))) return 0;
    out.dev = sb.st_dev;
    out.ino = sb.st_ino;
    if ((hit = find_clash(db, &out, &i)) == NULL) return 0;
    (void)snprintf(err, errlen,
                   "standard output is the database%s%s '%s': refusing to write the summary's "
                   "copy there (use --quiet, or send standard output elsewhere)",
                   i ? "'s " : "", suffixes[i], hit);
    free(hit);
    return EXIT_USAGE;
}
