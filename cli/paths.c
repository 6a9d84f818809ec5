/* paths.c: a file's identity (device, inode, and what is still to be made), so the output can
 * never overwrite the database however either is spelled. */
#include "paths.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Append s to buf. Each buffer here is sized for the whole path by its caller (paths_identify),
 * so the appends cannot overrun it. */
static void append(char *buf, const char *s) {
    size_t at = strlen(buf), n = strlen(s);
    memcpy(buf + at, s, n + 1);
}

/* Past the first missing component: "." stays, ".." takes back the last one (a folder that
 * mkdir -p will make is a real folder, never a link), anything else is appended. */
static void add_missing(char *rest, const char *name) {
    if (strcmp(name, ".") == 0) return;
    if (strcmp(name, "..") == 0 && rest[0] != '\0') {
        char *slash = strrchr(rest, '/');
        *(slash ? slash : rest) = '\0';
        return;
    }
    if (rest[0] != '\0') append(rest, "/");
    append(rest, name);
}

/* Walk path's components: cur grows while it exists, rest takes the remainder. */
static void walk(char *copy, char *cur, char *rest) {
    char *name = copy, *end;
    struct stat sb;
    for (; name != NULL; name = end) {
        size_t len = strlen(cur);
        if ((end = strchr(name, '/')) != NULL) *end++ = '\0';
        if (name[0] == '\0') continue; /* "//" or a trailing '/' */
        if (rest[0] == '\0') {
            append(cur, "/");
            append(cur, name);
            if (stat(cur, &sb) == 0) continue;
            cur[len] = '\0';
        }
        add_missing(rest, name);
    }
}

int paths_identify(const char *path, paths_id *id) {
    size_t n = strlen(path);
    char *copy = strdup(path), *cur = malloc(n + 3);
    struct stat sb;
    memset(id, 0, sizeof *id);
    id->rest = calloc(1, n + 1);
    if (copy == NULL || cur == NULL || id->rest == NULL) {
        free(copy);
        free(cur);
        paths_id_free(id);
        return -1;
    }
    cur[0] = '\0';
    if (path[0] != '/') append(cur, ".");
    walk(copy, cur, id->rest);
    /* cur existed when walked; should it vanish since, rest keeps the name apart. */
    if (stat(cur[0] != '\0' ? cur : "/", &sb) == 0) {
        id->dev = sb.st_dev;
        id->ino = sb.st_ino;
    }
    free(copy);
    free(cur);
    return 0;
}

int paths_same(const paths_id *a, const paths_id *b) {
    return a->dev == b->dev && a->ino == b->ino && strcmp(a->rest, b->rest) == 0;
}

void paths_id_free(paths_id *id) {
    free(id->rest);
    id->rest = NULL;
}
